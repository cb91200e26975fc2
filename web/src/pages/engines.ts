// Which engine will run, in words, before anything is uploaded: only engines the server can run
// are offered (GET /api/engines).
import type { components } from "../api/schema";

export type EngineInfo = components["schemas"]["EngineInfo"];

/** The engines to offer in the upload form: those the server can run, import left to its own
 * control (it needs a label map). */
export function offeredEngines(engines: EngineInfo[]): EngineInfo[] {
  return engines.filter((e) => e.available && e.name !== "import");
}

/** What ``choice`` does at ``quality`` on this server, for the notice above the drop zone. */
export function engineForecast(engines: EngineInfo[], choice: string, quality: string): string {
  const byName = new Map(engines.map((e) => [e.name, e]));
  const total = byName.get("totalsegmentator");
  const tissue = byName.get("tissue");
  const totalRuns = !!total?.available && total.qualities.some((q) => q === quality);
  if (choice === "import") return `Your own segmentation will be used: ${byName.get("import")?.finds ?? "its structures"}.`;
  if (choice === "totalsegmentator") {
    return totalRuns ? `TotalSegmentator will run: it finds ${total.finds}.`
      : `TotalSegmentator is not installed for “${quality}” quality on this server: choose another quality or engine.`;
  }
  if (choice === "auto" && totalRuns) return `TotalSegmentator will run: it finds ${total.finds}.`;
  const why = choice === "auto" ? " (TotalSegmentator's models are not installed on this server)" : "";
  return `The built-in tissue engine will run${why}: it finds ${tissue?.finds ?? "the body, lungs and skeleton"}.`;
}
