// Sortable tables (click a heading, or Enter on it) and the endpoints' filter. Nothing
// here loads anything.
(function () {
  "use strict";
  function key(td) {
    var v = td.getAttribute("data-v");
    return v === null ? td.textContent.trim() : parseFloat(v);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  });
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var shown = input.parentNode.parentNode.querySelector(".shown");
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase(), n = 0, rows = table.tBodies[0].rows;
      Array.prototype.forEach.call(rows, function (r) {
        var match = r.cells[0].textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !match;
        if (match) { n++; }
      });
      shown.textContent = q ? n + " of " + rows.length + " shown" : "";
    });
  });
  document.body.setAttribute("data-ready", "1");
}());
