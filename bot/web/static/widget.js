// Adds a floating "在线咨询" button and chat window (an iframe of the chat page) to any page that includes
// <script src="https://<server>/widget.js" defer></script>. The server's WEB_ALLOWED_ORIGINS decides which
// sites the chat page may be framed by. Styles are set through the DOM, so no inline <style> is needed.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__hohhotAssistantWidget) { return; }
  window.__hohhotAssistantWidget = true;
  var base = new URL(script.src, window.location.href).origin;

  function styled(tag, style) {
    var node = document.createElement(tag);
    Object.keys(style).forEach(function (key) { node.style[key] = style[key]; });
    return node;
  }

  var host = styled("div", { position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000" });
  host.id = "hohhot-assistant-widget";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var button = styled("button", {
    font: "16px system-ui, sans-serif", padding: "10px 18px", border: "0", borderRadius: "24px",
    background: "#b3261e", color: "#fff", cursor: "pointer", boxShadow: "0 2px 8px rgba(0,0,0,.25)"
  });
  button.type = "button";
  button.textContent = "在线咨询";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "hohhot-assistant-panel");

  var panel = styled("div", {
    display: "none", position: "fixed", right: "16px", bottom: "72px",
    width: "min(380px, calc(100vw - 32px))", height: "min(600px, calc(100vh - 96px))",
    background: "#fff", borderRadius: "12px", overflow: "hidden", boxShadow: "0 4px 24px rgba(0,0,0,.3)"
  });
  panel.id = "hohhot-assistant-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "在线咨询");

  var close = styled("button", {
    position: "absolute", top: "6px", right: "8px", font: "14px system-ui, sans-serif", padding: "4px 10px",
    border: "0", borderRadius: "6px", background: "rgba(255,255,255,.9)", color: "#b3261e", cursor: "pointer"
  });
  close.type = "button";
  close.textContent = "关闭";
  close.setAttribute("aria-label", "关闭在线咨询");

  var frame = null;

  function open() {
    if (!frame) {
      frame = styled("iframe", { width: "100%", height: "100%", border: "0", display: "block" });
      frame.title = "在线咨询：呼和浩特营商环境与政务服务问答";
      frame.src = base + "/?embed=1";
      panel.insertBefore(frame, close);
    }
    panel.style.display = "block";
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }

  function hide() {
    panel.style.display = "none";
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    if (panel.style.display === "none") { open(); } else { hide(); }
  });
  close.addEventListener("click", hide);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { hide(); }
  });
  window.addEventListener("message", function (event) {
    if (event.origin === base && event.data === "hohhot-assistant:close" && panel.style.display !== "none") {
      hide();
    }
  });

  panel.appendChild(close);
  root.appendChild(panel);
  root.appendChild(button);
  (document.body || document.documentElement).appendChild(host);
})();
