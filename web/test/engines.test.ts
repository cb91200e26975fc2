import { describe, expect, it } from "vitest";
import { engineForecast, offeredEngines, type EngineInfo } from "../src/pages/engines";

const engine = (name: EngineInfo["name"], available: boolean, qualities: EngineInfo["qualities"]): EngineInfo =>
  ({ name, label: name, available, qualities, finds: `${name} things` });
const without = [engine("auto", true, ["fast"]), engine("totalsegmentator", false, []),
  engine("tissue", true, ["fast", "normal"]), engine("import", true, ["fast"])];
const withFast = without.map((e) => e.name === "totalsegmentator" ? engine(e.name, true, ["fast"]) : e);

describe("engine choice before an upload", () => {
  it("offers only what can run, import apart", () => {
    expect(offeredEngines(without).map((e) => e.name)).toEqual(["auto", "tissue"]);
    expect(offeredEngines(withFast).map((e) => e.name)).toEqual(["auto", "totalsegmentator", "tissue"]);
  });

  it("says which engine will run and what it finds", () => {
    expect(engineForecast(without, "auto", "fast")).toMatch(/^The built-in tissue engine will run .*not installed.*tissue things/);
    expect(engineForecast(withFast, "auto", "fast")).toBe("TotalSegmentator will run: it finds totalsegmentator things.");
    expect(engineForecast(withFast, "auto", "normal")).toMatch(/^The built-in tissue engine/);
    expect(engineForecast(withFast, "totalsegmentator", "normal")).toMatch(/not installed for “normal”/);
    expect(engineForecast(withFast, "tissue", "fast")).toBe("The built-in tissue engine will run: it finds tissue things.");
  });
});
