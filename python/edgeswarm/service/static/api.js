// HTTP calls to the service, with the operator's bearer token kept in memory only
// (never in localStorage: closing the tab signs the operator out).

let session = null; // {token, username, role}

export function currentSession() {
  return session;
}

export function clearSession() {
  session = null;
}

/** The server's explanation of a failed request, as one line of text. */
export function errorText(status, body) {
  const detail = body && typeof body === "object" ? body.detail : body;
  let text;
  if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: ["body", "count"], msg: "..."}, ...]
    text = detail
      .map((d) => {
        const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "body" && p !== "query") : [];
        const msg = String(d.msg ?? JSON.stringify(d));
        const field = loc.join(".");
        // The project's ValueErrors already start with the parameter's name.
        return field && !msg.startsWith(`${loc[loc.length - 1]}:`) ? `${field}: ${msg}` : msg;
      })
      .join("; ");
  } else if (detail !== undefined && detail !== null && detail !== "") {
    text = typeof detail === "string" ? detail : JSON.stringify(detail);
  } else {
    text = "no details from the server";
  }
  const what = {
    401: "not signed in or the session expired",
    403: "your role may not do this",
    404: "not found",
    422: "rejected input",
    503: "unavailable",
  }[status];
  return `${status}${what ? ` (${what})` : ""}: ${text}`;
}

/**
 * One request; resolves to {ok, status, data, error}. `json` sends a JSON body, `form` a
 * urlencoded one; the bearer token is added when signed in. Network failures give status 0.
 */
export async function request(path, { method = "GET", json, form } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  const sentWith = session; // the session this request speaks for, if any
  if (sentWith) headers.Authorization = `Bearer ${sentWith.token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch (err) {
    return { ok: false, status: 0, data: null, error: `network error: ${err.message}` };
  }
  let data = null;
  const text = await response.text();
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  // The token is no good any more; a 401 to a request sent without it (a failed sign-in answered
  // after a newer one succeeded) says nothing about the current session.
  if (response.status === 401 && sentWith && session === sentWith) clearSession();
  return {
    ok: response.ok,
    status: response.status,
    data,
    error: response.ok ? null : errorText(response.status, data),
  };
}

/** OAuth2 password flow: POST /api/auth/token; on success the token is kept in memory. */
export async function signIn(username, password) {
  const result = await request("/api/auth/token", {
    method: "POST",
    form: { grant_type: "password", username, password },
  });
  if (result.ok && result.data && result.data.access_token) {
    session = { token: result.data.access_token, username, role: result.data.role ?? "?" };
  }
  return result;
}
