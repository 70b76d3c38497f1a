// Where output goes wrong: a reader that stops early (EPIPE), a full disk behind `>` (ENOSPC), a device
// given as --out. Real processes, since these are properties of the process's streams.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { BIN } from "../helpers.js";

const env = { ...process.env, FITLAB_NO_NVIDIA_SMI: "1" };
const hasDevFull = fs.existsSync("/dev/full") && fs.statSync("/dev/full").isCharacterDevice();

describe("output streams", () => {
  it("a reader that closes the pipe early (`fitlab decide | head -1`) ends quietly with exit 0", async () => {
    const child = spawn(process.execPath, [BIN, "decide"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    await new Promise<void>((res) => child.stdout.once("data", () => res()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((res) => child.on("close", (c) => res(c)));
    expect(code).toBe(0);
    expect(err).toBe("");
  });

  it.runIf(hasDevFull)("stdout on a full disk (`> /dev/full`): one line, exit 1, no stack trace", () => {
    const fd = fs.openSync("/dev/full", "w");
    try {
      const r = spawnSync(process.execPath, [BIN, "gpus"], { env, stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n")).toEqual(["fitlab: cannot write the output: no space left on the device"]);
    } finally {
      fs.closeSync(fd);
    }
  });

  it.runIf(hasDevFull)("--out /dev/full: one line, exit 1, and the device is written, never replaced", () => {
    const r = spawnSync(process.execPath, [BIN, "decide", "--out", "/dev/full"], { env, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("fitlab: /dev/full cannot be written: no space left on the device");
    expect(fs.statSync("/dev/full").isCharacterDevice()).toBe(true);
  });

  it("--out /dev/null writes into the device and keeps it a device", () => {
    const r = spawnSync(process.execPath, [BIN, "decide", "--out", "/dev/null"], { env, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(fs.statSync("/dev/null").isCharacterDevice()).toBe(true);
  });
});
