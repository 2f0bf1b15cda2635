import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { activityUrl, navigate, usePath } from './router';
import { loadBuckets, loadSettings, useStore } from './store';
import './style.css';
import { ActivityView } from './views/activity';
import { BucketsView } from './views/buckets';
import { QueryView } from './views/query';
import { SettingsView } from './views/settings';
import { StatusView } from './views/status';
import { TimelineView } from './views/timeline';
import { Loading } from './views/common';

const VIEWS = [
  { path: '/', name: 'Activity', view: ActivityView },
  { path: '/timeline', name: 'Timeline', view: TimelineView },
  { path: '/buckets', name: 'Buckets', view: BucketsView },
  { path: '/query', name: 'Query', view: QueryView },
  { path: '/settings', name: 'Settings', view: SettingsView },
  { path: '/status', name: 'Status', view: StatusView },
];

function App() {
  const path = usePath();
  const s = useStore();
  const current = VIEWS.find((v) => v.path !== '/' && (path === v.path || path.startsWith(v.path + '/'))) ?? VIEWS[0]!;
  useEffect(() => {
    document.title = `${current.name} · Sundial`;
  }, [current]);
  const View = current.view;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand" aria-hidden="true">
          ◔ Sundial
        </span>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <a
              key={v.path}
              href={v.path === '/' ? activityUrl() : v.path}
              aria-current={v === current ? 'page' : undefined}
              onClick={(e) => {
                if (e.ctrlKey || e.metaKey || e.shiftKey) return;
                e.preventDefault();
                navigate(v.path === '/' ? activityUrl() : v.path);
              }}
            >
              {v.name}
            </a>
          ))}
        </nav>
        {s.info && <span class="host">{s.info.hostname}</span>}
      </header>
      <main id="main" tabIndex={-1}>
        {s.settings === null ? <Loading /> : <View key={current.path} />}
      </main>
    </>
  );
}

// Asked before the first render, not in an effect after it: every view waits for these.
void loadSettings();
void loadBuckets();
render(<App />, document.getElementById('app')!);
