// The study viewer: 3D anatomy with its structure tree, statistics and downloads.
import { api, artifact, unwrap, type Job, type Study } from "../api/client";
import { formatBytes, h, toast } from "../ui/dom";
import { currentUser, topBar } from "../ui/shell";
import type { Leave } from "../router";
import { orientationCube } from "../viewer/orientation";
import { AnatomyScene, type StandardView } from "../viewer/scene";
import { statsView, type StructureStats } from "../viewer/stats";
import { offeredDownloads } from "./downloads";
import { pendingStudy } from "./pending";
import { slicePanel } from "./slicepanel";
import * as T from "../viewer/tree";
import { decodeView, encodeView, type ClipAxis, type ViewState } from "../viewer/viewstate";
import { signInUrl } from "../ui/returnto";
import { sendToPacs } from "./pacssend";

export function engineNotice(job: Job): string {
  const engine = job.engine_used === "totalsegmentator" ? "TotalSegmentator"
    : job.engine_used === "tissue" ? "the built-in tissue engine"
      : job.engine_used === "import" ? "imported segmentation" : (job.engine_used ?? "unknown engine");
  return job.engine_reason ? `Segmented by ${engine}: ${job.engine_reason}` : `Segmented by ${engine}.`;
}

function downloads(job: Job): HTMLElement {
  return h("ul", { class: "downloads" }, ...offeredDownloads(job).map(({ label, file }) =>
    h("li", {}, h("a", { href: file.url, download: file.filename, class: "button" }, label),
      h("span", { class: "muted" }, ` ${formatBytes(file.size)}`))));
}

export function viewerPage(go: (url: string) => void) {
  return async (root: HTMLElement, params: Record<string, string>): Promise<Leave> => {
    const user = await currentUser();
    if (!user) { go(signInUrl()); return () => undefined; }
    const id = params.id!;
    let study: Study;
    try {
      study = unwrap(await api.GET("/api/studies/{study_id}", { params: { path: { study_id: id } } }));
    } catch (e) {
      root.append(topBar(user, go), h("main", { class: "message" }, h("h1", {}, "Study not found"),
        h("p", {}, String(e instanceof Error ? e.message : e)), h("a", { href: "/", "data-link": true }, "Back to studies")));
      return () => undefined;
    }
    const job = study.latest_job;
    const glb = artifact(job, "glb");
    if (!job || job.state !== "done" || !glb) return pendingStudy(root, user, go, study);

    const viewport = h("div", { class: "viewport" });
    const info = h("div", { class: "pick-info", role: "status", "aria-live": "polite" }, "Click a structure to identify it.");
    const treeBox = h("div", { class: "tree", role: "tree", "aria-label": "Structures" });
    const search = h("input", { type: "search", placeholder: "Search structures", "aria-label": "Search structures" });
    const statsBox = h("section", { class: "tab-panel", hidden: true, id: "tab-stats" });
    const filesBox = h("section", { class: "tab-panel", hidden: true, id: "tab-files" }, downloads(job),
      sendToPacs(job));
    const loading = h("div", { class: "loading" }, "Loading model…");
    viewport.append(loading);

    const scene = new AnatomyScene(viewport);
    const cube = orientationCube((v) => scene.view(v));
    viewport.append(cube.element);
    scene.onFirstPixels = () => { document.body.dataset.firstPixels = String(performance.now()); };
    scene.onRender = (camera) => {
      cube.update(camera);
      viewport.dataset.capped = String(scene.cappedCount); // structures cut and closed, for tests
    };
    let state: T.TreeState = T.initialState([]);
    let stats = new Map<string, StructureStats>();
    let clip: ViewState["clip"] = null;
    const slices = slicePanel(job, (n) => state.styles[n]?.colour, (n) => stats.get(n)?.centroid_ras_mm,
      (n) => apply(T.select(state, n)));

    const writeUrl = (): void => {
      const view: ViewState = {
        hidden: T.hiddenNames(state), solo: state.solo, selected: state.selected, clip,
        camera: scene.cameraState(),
        opacity: Object.fromEntries(Object.entries(state.styles).map(([n, s]) => [n, s.opacity])),
      };
      const q = encodeView(view, T.DEFAULT_OPACITY, T.defaultHidden(state.structures)).toString();
      history.replaceState(null, "", `${location.pathname}${q ? `?${q}` : ""}`);
    };
    let urlTimer = 0;
    const scheduleUrl = (): void => { clearTimeout(urlTimer); urlTimer = window.setTimeout(writeUrl, 300); };

    const describeSelected = (): void => {
      const name = state.selected;
      if (!name) { info.textContent = "Click a structure to identify it."; return; }
      const s = stats.get(name);
      info.replaceChildren(h("strong", {}, T.structureLabel(name)),
        s ? ` · ${s.voxel_volume_ml.toFixed(1)} mL · mean ${s.hu_mean.toFixed(0)} HU (SD ${s.hu_std.toFixed(0)})` : "");
    };

    // Sliders and colour pickers apply while dragged but redraw the tree only when released:
    // replacing the element under the pointer would end the drag.
    const apply = (next: T.TreeState, redraw = true): void => {
      if (next.selected !== state.selected) slices.select(next.selected);
      state = next;
      for (const s of state.structures) {
        scene.applyStyle(s.name, state.styles[s.name]!, T.isShown(state, s.name), state.selected === s.name);
      }
      if (redraw) drawTree();
      describeSelected();
      scheduleUrl();
    };

    const drawTree = (): void => {
      const groups = T.groupTree(state.structures, search.value);
      treeBox.replaceChildren(...groups.map((g) => {
        const names = T.membersOf(state, g.group);
        const gBox = h("input", { type: "checkbox", "aria-label": `Show ${g.label}` });
        gBox.checked = T.groupVisible(state, g.group);
        gBox.addEventListener("change", () => apply(T.setGroupVisible(state, g.group, gBox.checked)));
        const gOpacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, class: "opacity",
          "aria-label": `Opacity of ${g.label}`, value: state.styles[names[0]!]?.opacity ?? 1 });
        gOpacity.addEventListener("input", () => apply(T.setOpacity(state, names, Number(gOpacity.value)), false));
        gOpacity.addEventListener("change", drawTree);
        const gColour = h("input", { type: "color", value: state.styles[names[0]!]?.colour ?? "#cccccc",
          "aria-label": `Colour of every structure in ${g.label}` });
        gColour.addEventListener("input", () => apply(T.setColour(state, names, gColour.value), false));
        gColour.addEventListener("change", drawTree);
        return h("details", { open: true, class: "group", role: "treeitem" },
          h("summary", {}, gBox, gColour, h("span", { class: "group-name" }, g.label),
            h("span", { class: "muted small" }, ` ${g.members.length}`), gOpacity),
          ...g.members.map((s) => {
            const style = state.styles[s.name]!;
            const box = h("input", { type: "checkbox", "aria-label": `Show ${T.structureLabel(s.name)}`,
              "data-structure": s.name });
            box.checked = style.visible;
            box.addEventListener("change", () => apply(T.setVisible(state, s.name, box.checked)));
            const colour = h("input", { type: "color", value: style.colour, "aria-label": `Colour of ${T.structureLabel(s.name)}` });
            colour.addEventListener("input", () => apply(T.setColour(state, [s.name], colour.value), false));
            const opacity = h("input", { type: "range", min: 0, max: 1, step: 0.05, class: "opacity",
              value: style.opacity, "aria-label": `Opacity of ${T.structureLabel(s.name)}` });
            opacity.addEventListener("input", () => apply(T.setOpacity(state, [s.name], Number(opacity.value)), false));
            const solo = h("button", { type: "button", class: `solo${state.solo === s.name ? " on" : ""}`,
              "aria-pressed": state.solo === s.name ? "true" : "false", title: "Show only this structure" }, "S");
            solo.addEventListener("click", () => apply(T.toggleSolo(state, s.name)));
            const label = h("button", { type: "button", class: "name link", title: T.structureLabel(s.name) },
              T.structureLabel(s.name));
            label.addEventListener("click", () => apply(T.select(state, s.name)));
            return h("div", { class: `leaf${state.selected === s.name ? " selected" : ""}${T.isShown(state, s.name) ? "" : " off"}`,
              role: "treeitem" }, box, colour, label, solo, opacity);
          }));
      }));
    };
    search.addEventListener("input", drawTree);

    const viewButton = (v: StandardView, label: string, key: string): HTMLElement => {
      const b = h("button", { type: "button", title: `${label} view (${key})` }, label);
      b.addEventListener("click", () => scene.view(v));
      return b;
    };
    const clipAxis = h("select", { "aria-label": "Clipping plane" },
      h("option", { value: "" }, "No clipping"), h("option", { value: "axial" }, "Axial"),
      h("option", { value: "coronal" }, "Coronal"), h("option", { value: "sagittal" }, "Sagittal"));
    const clipAt = h("input", { type: "range", min: 0, max: 1, step: 0.01, value: 0.5, "aria-label": "Clipping position" });
    const clipFlip = h("button", { type: "button", title: "Keep the other side" }, "⇄");
    const closeCuts = h("input", { type: "checkbox", checked: true, disabled: true,
      "aria-label": "Close cut surfaces" });
    closeCuts.addEventListener("change", () => scene.setCloseCuts(closeCuts.checked));
    let flip = false;
    const updateClip = (): void => {
      clip = clipAxis.value ? { axis: clipAxis.value as ClipAxis, at: Number(clipAt.value), flip } : null;
      clipAt.disabled = closeCuts.disabled = !clip;
      scene.setClip(clip);
      scheduleUrl();
    };
    clipAxis.addEventListener("change", updateClip);
    clipAt.addEventListener("input", updateClip);
    clipFlip.addEventListener("click", () => { flip = !flip; updateClip(); });
    const reset = h("button", { type: "button", title: "Reset the view (R)" }, "Reset");
    reset.addEventListener("click", () => {
      clipAxis.value = ""; updateClip(); apply(T.select(T.initialState(state.structures), null)); scene.view("anterior");
    });
    const shot = h("button", { type: "button", title: "Save a PNG of the view" }, "Screenshot");
    shot.addEventListener("click", () => {
      const a = h("a", { href: scene.screenshot(), download: `${study.name || "iris"}-3d.png` });
      a.click();
    });

    // On a wide screen the slices can sit beside the 3D view: then the 3D and Slices tabs are
    // one view, and a pick in either moves the other.
    let sideBySide = false;
    const showTab = (i: number): void => {
      const pair = sideBySide && i <= 1;
      tabs.forEach((t, j) => t.setAttribute("aria-selected", String(j === i || (pair && j <= 1))));
      main3d.hidden = !(i === 0 || pair);
      statsBox.hidden = i !== 2;
      filesBox.hidden = i !== 3;
      if (!main3d.hidden) scene.requestFrame();
      if (i === 1 || pair) { slices.open(); slices.recolour(); } else slices.element.hidden = true;
    };
    const tabs = ["3D", "Slices", "Statistics", "Downloads"].map((label, i) => {
      const b = h("button", { type: "button", role: "tab", "aria-selected": i === 0 ? "true" : "false" }, label);
      b.addEventListener("click", () => showTab(i));
      return b;
    });
    const split = h("button", { type: "button", class: "split-toggle", "aria-pressed": "false",
      title: "Show the slices beside the 3D view" }, "3D beside slices");
    split.addEventListener("click", () => {
      sideBySide = !sideBySide;
      split.setAttribute("aria-pressed", String(sideBySide));
      viewerMain.classList.toggle("side-by-side", sideBySide);
      showTab(0);
    });
    // On a phone the structure tree is a drawer over the 3D view (styles.css hides these buttons
    // on wider screens, where the tree is always beside it).
    const drawerOpen = h("button", { type: "button", class: "drawer-toggle", "aria-expanded": "false" }, "Structures");
    const drawerClose = h("button", { type: "button", class: "drawer-toggle ghost", "aria-label": "Close structures" }, "Done");
    const setDrawer = (open: boolean): void => {
      main3d.classList.toggle("drawer-open", open);
      drawerOpen.setAttribute("aria-expanded", String(open));
      scene.requestFrame();
    };
    drawerOpen.addEventListener("click", () => setDrawer(!main3d.classList.contains("drawer-open")));
    drawerClose.addEventListener("click", () => setDrawer(false));
    const main3d = h("div", { class: "viewer-3d" },
      h("aside", { class: "sidebar" }, h("div", { class: "row tight" }, search, drawerClose), h("div", { class: "row tight" },
        (() => { const b = h("button", { type: "button" }, "Show all"); b.addEventListener("click", () => apply(T.showAll(state))); return b; })()),
        treeBox),
      h("div", { class: "stage" },
        h("div", { class: "toolbar", role: "toolbar", "aria-label": "View" }, drawerOpen,
          viewButton("anterior", "Anterior", "1"), viewButton("posterior", "Posterior", "2"),
          viewButton("right", "Right", "3"), viewButton("left", "Left", "4"),
          viewButton("superior", "Superior", "5"), viewButton("inferior", "Inferior", "6"),
          h("span", { class: "sep" }), clipAxis, clipAt, clipFlip,
          h("label", { class: "check", title: "Show cut structures as closed faces" }, closeCuts, "Closed cuts"),
          h("span", { class: "sep" }), reset, shot),
        viewport, info));
    const viewerMain = h("main", { class: "viewer" },
      h("div", { class: "notice", "data-testid": "engine-notice" }, engineNotice(job)),
      h("nav", { class: "tabs", role: "tablist" }, ...tabs, h("span", { class: "spacer" }), split),
      main3d, slices.element, statsBox, filesBox);
    root.append(topBar(user, go, h("span", { class: "crumb" }, study.name)),
      viewerMain);

    const onKey = (e: KeyboardEvent): void => {
      if ((e.target as HTMLElement).matches("input, select, textarea")) return;
      const views: StandardView[] = ["anterior", "posterior", "right", "left", "superior", "inferior"];
      const n = Number(e.key);
      if (n >= 1 && n <= views.length) scene.view(views[n - 1]!);
      else if (e.key === "r" || e.key === "R") reset.click();
      else if (e.key === "Escape") apply(T.select(state, null));
    };
    document.addEventListener("keydown", onKey);
    let down: [number, number] | null = null;
    scene.renderer.domElement.addEventListener("pointerdown", (e) => { down = [e.clientX, e.clientY]; });
    scene.renderer.domElement.addEventListener("pointerup", (e) => {
      if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) < 4) {
        apply(T.select(state, scene.pick(e.clientX, e.clientY)));
      }
      down = null;
    });
    scene.onChange = scheduleUrl;

    const statsUrl = artifact(job, "statistics_json")?.url;
    const statsPromise = statsUrl
      ? fetch(statsUrl).then((r) => r.json() as Promise<{ structures: StructureStats[] }>).catch(() => ({ structures: [] }))
      : Promise.resolve({ structures: [] as StructureStats[] });
    try {
      // Leaving while this loads is safe: the router calls the function returned below.
      const structures = await scene.load(glb.url);
      const view = decodeView(location.search, new Set(structures.map((s) => s.name)));
      let next = T.initialState(structures);
      if (view.hidden) {
        const hidden = new Set(view.hidden);
        for (const s of structures) next = T.setVisible(next, s.name, !hidden.has(s.name));
      }
      scene.frameOn(T.framedNames(structures));
      for (const [n, o] of Object.entries(view.opacity)) next = T.setOpacity(next, [n], o);
      if (view.solo) next = T.toggleSolo(next, view.solo);
      next = T.select(next, view.selected);
      if (view.camera) scene.setCamera(view.camera.position, view.camera.target);
      if (view.clip) {
        clipAxis.value = view.clip.axis; clipAt.value = String(view.clip.at); flip = view.clip.flip;
        updateClip();
      } else clipAt.disabled = true;
      scene.onFrame = () => {
        scene.onFrame = null;
        document.body.dataset.viewerReady = String(performance.now());
        loading.remove();
      };
      apply(next);
      const rows = (await statsPromise).structures ?? [];
      stats = new Map(rows.map((r) => [r.name, r]));
      statsBox.append(statsView(rows, (name) => { tabs[0]!.click(); apply(T.select(state, name)); }));
      describeSelected();
    } catch (e) {
      loading.textContent = `The model could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
      toast("The model could not be loaded.", "error");
    }
    return () => {
      clearTimeout(urlTimer);
      document.removeEventListener("keydown", onKey);
      delete document.body.dataset.viewerReady;
      delete document.body.dataset.firstPixels;
      scene.dispose();
      slices.dispose();
    };
  };
}
