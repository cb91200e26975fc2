import "./styles.css";
import { Router } from "./router";
import { authPage } from "./pages/auth";
import { studiesPage } from "./pages/studies";

const root = document.getElementById("app")!;
const router = new Router(root);
const go = (url: string): void => router.go(url);
router
  .add("/", studiesPage(go))
  .add("/signin", authPage("signin", go))
  .add("/signup", authPage("signup", go))
  .add("/account", async (root) => (await import("./pages/account")).accountPage(go)(root))
  // three.js and the viewers load only when a study or a comparison is opened.
  .add("/studies/:id", async (root, params) => (await import("./pages/viewer")).viewerPage(go)(root, params))
  .add("/comparisons/:id", async (root, params) => (await import("./pages/comparison")).comparisonPage(go)(root, params));
void router.render();
