import { CustomChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only what the timeline draws (the Activity view's charts are SVG of our own, plot.tsx): keeps the
// chunk small. Its own chunk, loaded when the timeline first opens.
echarts.use([CustomChart, GridComponent, TooltipComponent, DataZoomComponent, CanvasRenderer]);

export { echarts };
