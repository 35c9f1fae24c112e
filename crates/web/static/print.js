// Print buttons of the letters (records request, plan): the print stylesheet
// prints the letter alone. A file, not inline: the Content-Security-Policy
// refuses inline script.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () {
    window.print();
  });
});
