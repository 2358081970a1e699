// Shows the police questions only once "immediate danger" is ticked; without script they are always shown.
(function () {
  var box = document.getElementById("immediate_danger");
  var details = document.getElementById("danger-details");
  if (!box || !details) { return; }
  function sync() { details.hidden = !box.checked; }
  box.addEventListener("change", sync);
  sync();
}());

// Forms (GOV.UK's error summary): after a refused submission the summary of what to correct takes the focus, so a
// screen reader reads it first; each of its links moves the focus to its field (and shows the field's question).
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) { return; }
  var details = summary.closest("details");
  if (details) { details.open = true; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var question = field.closest("fieldset") ? field.closest("fieldset").querySelector("legend") : null;
    question = question || document.querySelector("label[for='" + field.id + "']") || field;
    question.scrollIntoView();
    field.focus({preventScroll: true});
  });
}());
