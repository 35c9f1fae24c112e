// The booking page: show the times in the visitor's own zone when the page
// is first opened, and again whenever another zone is chosen. Served as a
// file, not inline, so that the Content-Security-Policy can refuse every
// inline script and handler (docs/SECURITY.md).
(function () {
  var select = document.getElementById("zone");
  if (!select) return;
  select.addEventListener("change", function () { select.form.submit(); });
  if (!window.Intl || location.search.indexOf("time_zone=") >= 0 || document.getElementById("errors")) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || select.value === zone) return;
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
  if (!known) { var o = document.createElement("option"); o.value = zone; o.textContent = zone; select.appendChild(o); }
  select.value = zone;
  select.form.submit();
})();
