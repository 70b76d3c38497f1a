// Server-sent events, one stream per page, closed when the page goes.
import { useEffect } from "preact/hooks";

export function useEvents(url: string | null, handlers: Record<string, (data: string) => void>): void {
  useEffect(() => {
    if (!url) return;
    const es = new EventSource(url, { withCredentials: true });
    for (const [event, h] of Object.entries(handlers)) es.addEventListener(event, (e) => h((e as MessageEvent<string>).data));
    return () => es.close();
  }, [url]);
}
