// The inquiry form: preselect the visitor's own time zone when the page is
// first shown (not after a refused post, which keeps what was chosen).
// Served as a file, not inline, so that the Content-Security-Policy can
// refuse every inline script (docs/SECURITY.md).
(function () {
  var select = document.getElementById("time_zone");
  if (!select || document.querySelector(".field-error") || !window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  if (![].some.call(select.options, function (o) { return o.value === zone; })) {
    select.add(new Option(zone, zone));
  }
  select.value = zone;
})();
