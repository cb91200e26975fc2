import { describe, expect, it } from "vitest";
import { decodeView, EMPTY_VIEW, encodeView, type ViewState } from "../src/viewer/viewstate";

describe("view state in the URL", () => {
  it("round-trips every field", () => {
    const view: ViewState = {
      hidden: ["spleen", "liver"], solo: "lung_left", selected: "liver",
      clip: { axis: "coronal", at: 0.25, flip: true },
      camera: { position: [0.1, -0.2, 0.75], target: [0, 0.05, 0] },
      opacity: { liver: 0.5, spleen: 1 },
    };
    const back = decodeView(encodeView(view).toString());
    expect(back).toEqual({ ...view, hidden: ["liver", "spleen"], opacity: { liver: 0.5 } });
  });

  it("encodes nothing for the default view", () => {
    expect(encodeView(EMPTY_VIEW).toString()).toBe("");
    expect(encodeView({ ...EMPTY_VIEW, opacity: { body: 0.12 } }, { body: 0.12 }).toString()).toBe("");
    expect(encodeView({ ...EMPTY_VIEW, opacity: { body: 1 } }, { body: 0.12 }).toString()).toBe("op=body%3A1");
  });

  it("leaves the default hidden set out, and says when the user shows everything", () => {
    const fat = ["torso_fat"];
    expect(encodeView({ ...EMPTY_VIEW, hidden: ["torso_fat"] }, {}, fat).toString()).toBe("");
    const all = encodeView({ ...EMPTY_VIEW, hidden: [] }, {}, fat).toString();
    expect(all).toBe("hide=");
    expect(decodeView(all).hidden).toEqual([]);
    expect(decodeView("").hidden).toBeNull();
  });

  it("ignores malformed or unknown parts instead of failing", () => {
    const v = decodeView("hide=liver,<script>,heart&clip=oblique,2&cam=1,2,x&op=liver:abc&solo=x y",
      new Set(["liver"]));
    expect(v).toEqual({ ...EMPTY_VIEW, hidden: ["liver"] });
    expect(decodeView("clip=axial,7").clip).toEqual({ axis: "axial", at: 1, flip: false });
  });
});
