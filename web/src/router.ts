import { useEffect, useState } from 'preact/hooks';

/** Path routing in the browser; the daemon answers every non-API path with index.html. */
export function navigate(path: string): void {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

/** The Activity view's last range is kept in its URL; going back to Activity returns to it. */
export function activityUrl(): string {
  return sessionStorage.getItem('sundial.activity') ?? '/';
}
export function rememberActivity(url: string): void {
  sessionStorage.setItem('sundial.activity', url);
}
