// The admin console's login: post the secret as JSON, then open the console. No inline script (CSP).
"use strict";

(function () {
  const form = document.getElementById("login");
  const input = document.getElementById("secret");
  const status = document.getElementById("login-status");
  const button = document.getElementById("login-button");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    button.disabled = true;
    try {
      const response = await fetch("/admin/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ secret: input.value }),
        credentials: "same-origin",
      });
      if (response.ok) {
        window.location.assign("/admin");
        return;
      }
      let message = "登录失败，请重试。";
      try {
        const data = await response.json();
        if (data && typeof data.message === "string") message = data.message;
      } catch (_) { /* not JSON: keep the general message */ }
      status.textContent = message;
      input.select();
    } catch (_) {
      status.textContent = "无法连接服务器，请稍后再试。";
    } finally {
      button.disabled = false;
    }
  });
})();
