// Operator controls: sign in (OAuth2 password form), inject Byzantine nodes, inject noise.
// Every failure shows the server's own message (401, 403, 422, ...).

import { clearSession, currentSession, request, signIn } from "./api.js";
import { fmt } from "./format.js";

// Used only when /openapi.json does not list the attacks (the server validates anyway).
const FALLBACK_ATTACKS = ["bias", "sign_flip", "gaussian", "alie", "ipm", "mimic", "intermittent"];

/** The enum of the `attack` field of the inject_byzantine request body, from the OpenAPI schema. */
function attackEnum(openapi) {
  const schemas = (openapi && openapi.components && openapi.components.schemas) || {};
  const resolve = (s) => {
    if (!s) return null;
    if (s.$ref) return resolve(schemas[s.$ref.split("/").pop()]);
    if (Array.isArray(s.enum)) return s.enum;
    for (const alt of [...(s.anyOf || []), ...(s.allOf || []), ...(s.oneOf || [])]) {
      const found = resolve(alt);
      if (found) return found;
    }
    return null;
  };
  const post = openapi && openapi.paths && openapi.paths["/api/inject_byzantine"] && openapi.paths["/api/inject_byzantine"].post;
  const content = post && post.requestBody && post.requestBody.content && post.requestBody.content["application/json"];
  let body = content && content.schema;
  if (body && body.$ref) body = schemas[body.$ref.split("/").pop()];
  return body && body.properties ? resolve(body.properties.attack) : null;
}

export class Controls {
  constructor() {
    this.message = document.getElementById("control-message");
    this.loginForm = document.getElementById("login-form");
    this.signedIn = document.getElementById("signed-in");
    this.attack = document.getElementById("byz-attack");
    this.loginForm.addEventListener("submit", (e) => this.onLogin(e));
    document.getElementById("logout-button").addEventListener("click", () => {
      clearSession();
      this.showSession();
      this.say("Signed out.", "info");
    });
    document.getElementById("byzantine-form").addEventListener("submit", (e) => this.onByzantine(e));
    document.getElementById("noise-form").addEventListener("submit", (e) => this.onNoise(e));
    this.showSession();
    this.loadAttacks();
  }

  async loadAttacks() {
    const result = await request("/openapi.json");
    const attacks = (result.ok && attackEnum(result.data)) || FALLBACK_ATTACKS;
    this.attack.replaceChildren(
      ...attacks.map((name) => {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        return option;
      }),
    );
    this.attack.dataset.source = result.ok && attackEnum(result.data) ? "openapi" : "fallback";
  }

  say(text, kind) {
    this.message.textContent = text;
    this.message.dataset.kind = kind; // "ok" | "error" | "info"
  }

  showSession() {
    const session = currentSession();
    this.loginForm.hidden = Boolean(session);
    this.signedIn.hidden = !session;
    if (session) {
      document.getElementById("signed-in-user").textContent = session.username;
      document.getElementById("signed-in-role").textContent = session.role;
    }
  }

  async onLogin(event) {
    event.preventDefault();
    const form = new FormData(this.loginForm);
    const result = await signIn(String(form.get("username")), String(form.get("password")));
    document.getElementById("login-password").value = "";
    if (result.ok) this.say(`Signed in as ${currentSession().username} (${currentSession().role}).`, "ok");
    else this.say(`Sign-in failed — ${result.error}`, "error");
    this.showSession();
  }

  async send(path, body, describe) {
    if (!currentSession()) {
      // Still sent: the server decides and explains (401); the hint says what to do.
      this.say("Not signed in — sending anyway; sign in as an operator if the server refuses.", "info");
    }
    const result = await request(path, { method: "POST", json: body });
    if (result.ok) this.say(describe(result.data), "ok");
    else this.say(`${path} refused — ${result.error}`, "error");
    this.showSession(); // a 401 clears the session
    return result;
  }

  async onByzantine(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {
      count: Number(form.get("count")),
      bias: Number(form.get("bias")),
      attack: String(form.get("attack")),
    };
    await this.send("/api/inject_byzantine", body, (answer) => {
      const status = (answer && answer.status) || answer || {};
      const now = status.byzantine !== undefined ? `; ${fmt(status.byzantine)} byzantine now` : "";
      return `Injected ${body.count} Byzantine nodes (attack ${body.attack}, bias ${body.bias})${now}.`;
    });
  }

  async onNoise(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { intensity: Number(form.get("intensity")), duration_sec: Number(form.get("duration_sec")) };
    await this.send(
      "/api/inject_noise",
      body,
      () => `Noise of intensity ${body.intensity} injected for ${body.duration_sec} simulated seconds.`,
    );
  }
}
