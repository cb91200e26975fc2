// The quality and engine a new job asks for, as the API types them: the form's strings are
// checked against the generated schema's values rather than cast.
import type { components } from "../api/schema";

type JobCreate = components["schemas"]["JobCreate"];
export type Quality = NonNullable<JobCreate["quality"]>;
export type EngineChoice = NonNullable<JobCreate["engine"]>;

/** The qualities offered, with their labels; null for one not offered. A record of every value,
 * so the compiler checks it against the schema both ways. */
export const QUALITY_LABELS: Record<Quality, string | null> = {
  fastest: null, fast: "Fast (3 mm)", normal: "Normal (1.5 mm)", high: "High (finest surfaces)",
};
const ENGINE_CHOICES: Record<EngineChoice, null> = { auto: null, totalsegmentator: null, tissue: null, import: null };

const isKey = <K extends string>(table: Record<K, unknown>, value: string): value is K => Object.hasOwn(table, value);

/** The quality named ``value``; ``fallback`` when the API has none of that name. */
export const qualityOf = (value: string, fallback: Quality = "fast"): Quality =>
  isKey(QUALITY_LABELS, value) ? value : fallback;

/** The engine choice named ``value``; ``fallback`` when the API has none of that name. */
export const engineOf = (value: string, fallback: EngineChoice = "auto"): EngineChoice =>
  isKey(ENGINE_CHOICES, value) ? value : fallback;
