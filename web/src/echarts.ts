import { BarChart, CustomChart, SunburstChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only what the views draw: keeps the bundle small. Loaded as its own chunk, in parallel with the
// first API requests, so the app starts asking for data before the chart library is parsed.
echarts.use([BarChart, SunburstChart, CustomChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, CanvasRenderer]);

export { echarts };
