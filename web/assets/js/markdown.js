// Chat answers as Markdown, rendered by well-kept libraries served by Muse (web/vendor.py):
// markdown-it (CommonMark, tables, fenced code; raw HTML in an answer stays text), highlight.js
// for code, and DOMPurify between the HTML they make and the page, so model output can never run
// script or link to `javascript:`. Without the libraries (`make vendor` not run) answers show as
// plain text.
import { append, h, swap, toast } from "./ui.js";
import { t } from "./i18n.js";

const VENDOR = "/assets/vendor";
const libs = await Promise.all([
  import(`${VENDOR}/markdown-it/markdown-it.js`),
  import(`${VENDOR}/highlight/highlight.js`),
  import(`${VENDOR}/dompurify/purify.js`),
]).then(([md, hl, purify]) => ({ MarkdownIt: md.default, hljs: hl.default, DOMPurify: purify.default }))
  .catch(() => null);

/** True when answers are rendered as Markdown (the vendored libraries loaded). */
export const markdownAvailable = Boolean(libs);

// Only these survive the sanitizer: what markdown-it makes from Markdown, plus highlight.js spans.
const ALLOWED_TAGS = ["a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
  "img", "li", "ol", "p", "pre", "s", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul"];
const ALLOWED_ATTR = ["href", "src", "alt", "title", "class", "start", "align"];
const SAFE_URL = /^(?:https?:|mailto:|\/(?![\/\\])|#)/i;

let md = null;
let purifier = null;

function setUp() {
  const { MarkdownIt, hljs, DOMPurify } = libs;
  md = new MarkdownIt({
    html: false, linkify: true, breaks: true,
    highlight(code, lang) {
      const language = lang && hljs.getLanguage(lang) ? lang : null;
      try {
        return language ? hljs.highlight(code, { language, ignoreIllegals: true }).value : "";
      } catch { return ""; }  // markdown-it escapes the code itself
    },
  });
  // Page and section headings come first: an answer's "# Title" is a third-level heading.
  // A table column's alignment is a class, not a style attribute (the page's CSP allows none).
  md.core.ruler.push("muse_blocks", (state) => {
    for (const token of state.tokens) {
      if (token.type === "heading_open" || token.type === "heading_close") {
        token.tag = `h${Math.min(6, Number(token.tag.slice(1)) + 2)}`;
      }
      const align = /^text-align:(left|center|right)$/.exec(token.attrGet("style") || "");
      if (align) {
        token.attrs = token.attrs.filter(([name]) => name !== "style");
        token.attrJoin("class", `align-${align[1]}`);
      }
    }
  });
  // A picture from another host would be fetched by the reader's browser: it becomes a link.
  const image = md.renderer.rules.image;
  md.renderer.rules.image = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    const src = token.attrGet("src") || "";
    if (sameOrigin(src)) return image(tokens, idx, options, env, self);
    const alt = md.utils.escapeHtml(token.content || src);
    return `<a href="${md.utils.escapeHtml(src)}">${alt}</a>`;
  };
  purifier = DOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    for (const name of ["href", "src"]) {
      const value = node.getAttribute?.(name);
      if (value !== null && value !== undefined && !SAFE_URL.test(value.trim())) node.removeAttribute(name);
    }
    // Pictures only from Muse itself (or inline data): another host would learn who reads the answer.
    if (node.tagName === "IMG" && !sameOrigin(node.getAttribute("src") || "")) node.removeAttribute("src");
    if (node.tagName === "A" && node.hasAttribute("href")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer");
    }
  });
}

function sameOrigin(src) {
  try { return new URL(src, location.href).origin === location.origin; } catch { return false; }
}

/** `html` through DOMPurify, as a DocumentFragment (only the tags and attributes above). */
export function sanitize(html) {
  if (!libs) return document.createTextNode(String(html));
  if (!purifier) setUp();
  return purifier.sanitize(String(html), {
    ALLOWED_TAGS, ALLOWED_ATTR: [...ALLOWED_ATTR, "target", "rel"], RETURN_DOM_FRAGMENT: true,
  });
}

/** Render Markdown `source` into a DocumentFragment (plain text when the libraries are missing). */
export function renderMarkdown(source) {
  const frag = document.createDocumentFragment();
  if (!libs) {
    append(frag, h("p.plain", {}, String(source)));
    return frag;
  }
  if (!md) setUp();
  append(frag, sanitize(md.render(String(source))));
  for (const table of frag.querySelectorAll("table")) {
    // A wide table scrolls on its own (and can be scrolled from the keyboard).
    const wrap = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": t("md.table") });
    swap(table, wrap);
    append(wrap, table);
  }
  for (const pre of frag.querySelectorAll("pre")) {
    const code = pre.querySelector("code");
    const lang = (code?.className.match(/language-([\w+#-]+)/) || [])[1] || "";
    if (code) code.classList.add("hljs");
    pre.setAttribute("tabindex", "0");
    pre.setAttribute("aria-label", lang ? t("md.codeIn", { lang }) : t("md.code"));
    const copy = h("button.copy-code.small", { type: "button" }, t("md.copyCode"));
    copy.addEventListener("click", () => copyText((code?.textContent || "").replace(/\n$/, "")));
    const box = h("div.code-block", {}, lang ? h("span.lang.small", { "aria-hidden": "true" }, lang) : null, copy);
    swap(pre, box);
    append(box, pre);
  }
  return frag;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("copied"));
  } catch {
    toast(t("copyFailed"), { bad: true });
  }
}
