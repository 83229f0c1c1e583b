/* regionkit report carousel: plain JavaScript, no dependency, no network.
   Without JavaScript every slide stays visible (progressive enhancement). */
(function () {
  "use strict";
  function setup(carousel) {
    if (carousel.getAttribute("data-rk-ready") === "1") { return; }
    carousel.setAttribute("data-rk-ready", "1");
    var slides = carousel.querySelectorAll("figure.rk-slide");
    var controls = carousel.querySelector(".rk-controls");
    var status = carousel.querySelector(".rk-status");
    var current = 0;
    function show(index) {
      var n = slides.length;
      current = ((index % n) + n) % n;
      for (var i = 0; i < n; i++) {
        slides[i].classList.toggle("rk-active", i === current);
      }
      var caption = slides[current].querySelector("figcaption");
      status.textContent = (current + 1) + " / " + n + (caption ? " \u2014 " + caption.textContent : "");
      carousel.setAttribute("data-rk-current", String(current));
    }
    if (slides.length === 0) { return; }
    carousel.classList.add("rk-js");
    if (slides.length > 1) { controls.hidden = false; }
    carousel.querySelector(".rk-prev").addEventListener("click", function () { show(current - 1); });
    carousel.querySelector(".rk-next").addEventListener("click", function () { show(current + 1); });
    carousel.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") { show(current - 1); }
      if (event.key === "ArrowRight") { show(current + 1); }
    });
    var report = carousel.closest(".rk-report");
    if (report) {
      var rows = report.querySelectorAll("tr[data-rk-slide]");
      for (var r = 0; r < rows.length; r++) {
        rows[r].addEventListener("click", function () {
          show(parseInt(this.getAttribute("data-rk-slide"), 10));
          carousel.scrollIntoView({ block: "nearest" });
        });
      }
    }
    show(0);
  }
  var carousels = document.querySelectorAll(".rk-carousel");
  for (var c = 0; c < carousels.length; c++) { setup(carousels[c]); }
})();
