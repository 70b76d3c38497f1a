// The fitlab dashboard: Plan, Runs (one run live), Compare. Hash routes; every figure comes from the server.
import { render } from "preact";
import { ComparePage } from "./pages/compare.tsx";
import { PlanPage } from "./pages/plan.tsx";
import { RunPage } from "./pages/run.tsx";
import { RunsPage } from "./pages/runs.tsx";
import { href, useRoute } from "./router.ts";
import "./style.css";

function App() {
  const route = useRoute();
  const [top, id] = route.path;
  const page = top === "plan" ? <PlanPage /> : top === "compare" ? <ComparePage route={route} /> : top === "runs" && id ? <RunPage id={id} /> : <RunsPage route={route} />;
  const tab = (name: string, path: string) => (
    <a class={top === path || (path === "runs" && !top) ? "on" : ""} href={href(`/${path}`)}>
      {name}
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
      <main key={route.path.join("/")}>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
