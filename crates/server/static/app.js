// jiesu web UI: the little the server cannot do — fill a field from a suggestion, send the CSRF
// token with every htmx call, draw the dashboard charts.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });
  // A suggestion's 采用 button copies its value into the form field it names.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-fill]");
    if (!b) return;
    e.preventDefault();
    var f = document.getElementById(b.getAttribute("data-fill"));
    if (!f) return;
    f.value = b.getAttribute("data-value");
    f.dispatchEvent(new Event("change", { bubbles: true }));
    f.focus();
  });
  // 返回上一页 on error pages (a link, not `javascript:`, which the CSP forbids).
  document.addEventListener("click", function (e) {
    var a = e.target.closest("[data-back]");
    if (!a || window.history.length < 2) return;
    e.preventDefault();
    window.history.back();
  });
  // Ctrl/⌘+Enter sends the form that asks for it (the intake desk).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = document.querySelector("form[data-submit-on-ctrl-enter]");
    if (form) form.requestSubmit();
  });
  // The intake desk: the disposition radio shows the fields it needs.
  function syncDisposition() {
    var checked = document.querySelector('input[name="disposition"]:checked');
    document.querySelectorAll("[data-when]").forEach(function (el) {
      el.hidden = !checked || el.getAttribute("data-when").split(" ").indexOf(checked.value) < 0;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.name === "disposition") syncDisposition();
  });
  document.addEventListener("DOMContentLoaded", function () {
    syncDisposition();
    // Charts: each .chart element carries its ECharts option as JSON.
    if (window.echarts) {
      document.querySelectorAll(".chart[data-option]").forEach(function (el) {
        var chart = window.echarts.init(el);
        chart.setOption(JSON.parse(el.getAttribute("data-option")));
        window.addEventListener("resize", function () { chart.resize(); });
      });
    }
  });
})();
