// The fitlab dashboard: Plan, Runs (one run live), Compare. Hash routes; every figure comes from the server.
// Each page is its own chunk, loaded when first shown (the run list needs neither chart library).
import { render, type ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { href, useRoute, type Route } from "./router.ts";
import "./style.css";

type Page = (r: Route, id: string | undefined) => ComponentChildren;
const PAGES: Record<string, () => Promise<Page>> = {
  plan: () => import("./pages/plan.tsx").then((m) => () => <m.PlanPage />),
  compare: () => import("./pages/compare.tsx").then((m) => (r: Route) => <m.ComparePage route={r} />),
  run: () => import("./pages/run.tsx").then((m) => (_r: Route, id: string | undefined) => <m.RunPage id={id!} />),
  runs: () => import("./pages/runs.tsx").then((m) => (r: Route) => <m.RunsPage route={r} />),
};
const loaded: Record<string, Page> = {};

function App() {
  const route = useRoute();
  const [top, id] = route.path;
  const name = top === "plan" || top === "compare" ? top : top === "runs" && id ? "run" : "runs";
  const [, setReady] = useState(0);
  useEffect(() => {
    if (!loaded[name]) void PAGES[name]!().then((p) => ((loaded[name] = p), setReady((n) => n + 1)));
  }, [name]);
  const page = loaded[name];
  const tab = (label: string, path: string) => (
    <a class={top === path || (path === "runs" && !top) ? "on" : ""} href={href(`/${path}`)}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <b class="logo">fitlab</b>
        <nav>
          {tab("Plan", "plan")}
          {tab("Runs", "runs")}
          {tab("Compare", "compare")}
        </nav>
      </header>
      <main key={route.path.join("/")}>{page ? page(route, id) : <p class="note">loading…</p>}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
