// The guard's rules on their own: which Host names a bind allows, and what counts as a path in a request.
import { describe, expect, it } from "vitest";
import { allowedHostNames, makeGuard, pathProblem } from "../../src/web/security.js";

describe("allowed Host names", () => {
  it("loopback: 127.0.0.1, localhost and [::1] on the bound port, nothing else", () => {
    expect(allowedHostNames("127.0.0.1", 8177).sort()).toEqual(["127.0.0.1:8177", "[::1]:8177", "localhost:8177"]);
    const g = makeGuard("127.0.0.1", 8177);
    expect(g.origins.has("http://127.0.0.1:8177")).toBe(true);
    expect(g.origins.has("http://127.0.0.1:8178")).toBe(false);
    expect(g.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(makeGuard("127.0.0.1", 8177).token).not.toBe(g.token);
  });
  it("a wildcard bind: loopback and this machine's interface addresses", () => {
    const names = allowedHostNames("0.0.0.0", 9000);
    expect(names).toContain("127.0.0.1:9000");
    expect(names).toContain("localhost:9000");
    expect(names.every((n) => n.endsWith(":9000"))).toBe(true);
    expect(names).not.toContain("evil.example:9000");
  });
  it("a specific address allows that address only", () => {
    expect(allowedHostNames("192.168.1.5", 80)).toEqual(["192.168.1.5:80"]);
  });
});

describe("paths in a request", () => {
  it.each([
    ["/api/runs/..", "a parent-folder step (..)"],
    ["/api/runs/r1/artefacts/..%2F..%2Fetc%2Fpasswd", "a parent-folder step (..)"],
    ["/api/runs/%252e%252e", "a parent-folder step (..)"],
    ["/api/runs?sweep=../x", "a parent-folder step (..)"],
    ["/api/runs?sweep=a/../b", "a parent-folder step (..)"],
    ["/api/estimate?model=%2Fetc%2Fpasswd", "an absolute path"],
    ["/api/runs//etc/passwd", "an absolute path"],
    ["/api/estimate?model=C:%5Cx", "a backslash"],
    ["/api/estimate?model=C:/x", "an absolute path"],
    ["/api/estimate?model=~/x", "an absolute path"],
    ["/api/runs/a%00b", "a NUL byte"],
    ["/api/runs/%E0%A4%A", "a malformed escape"],
  ])("%s: %s", (target, why) => {
    expect(pathProblem(target)).toBe(why);
  });
  it.each(["/", "/assets/index-Da8x_Tcrh.js", "/api/runs/r20260412103000-1a2b3c/series", "/api/estimate?model=Qwen/Qwen2.5-7B&seq=2048&gpu=GeForce%20RTX%205060%20Ti%2016GB", "/api/compare?sweep=D.lr-sweep@20260102T000000", "/api/runs?experiment=A.qlora-basic"])("%s is fine", (target) => {
    expect(pathProblem(target)).toBeNull();
  });
});
