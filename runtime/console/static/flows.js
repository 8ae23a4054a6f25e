// The Flows page: a flow shown at its own size, wider than its box (a phone), opens where
// its calls start (the `on start` handler), not at the box's empty top-left corner.
(function () {
  "use strict";
  function toStart(box) {
    if (box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight) return;
    const start = Array.from(box.querySelectorAll("g.node")).find(
      (g) => (g.querySelector("text") || {}).textContent === "on start");
    if (!start) return;
    const b = box.getBoundingClientRect(), s = start.getBoundingClientRect();
    box.scrollLeft += s.left + s.width / 2 - (b.left + b.width / 2);
    box.scrollTop += s.top - b.top - 8;
  }
  document.addEventListener("DOMContentLoaded", () => {
    for (const box of document.querySelectorAll(".flow-graph")) toStart(box);
    for (const fit of document.querySelectorAll("input.fit")) {
      fit.addEventListener("change", () => {
        const box = fit.parentElement.querySelector(".flow-graph");
        if (box) requestAnimationFrame(() => toStart(box));
      });
    }
  });
})();
