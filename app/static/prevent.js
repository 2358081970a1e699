// Shows the police questions only once "immediate danger" is ticked; without script they are always shown.
(function () {
  var box = document.getElementById("immediate_danger");
  var details = document.getElementById("danger-details");
  if (!box || !details) { return; }
  function sync() { details.hidden = !box.checked; }
  box.addEventListener("change", sync);
  sync();
}());

// The concern form: "Which subcontractor?" only once "A subcontractor's learner" is chosen; without script, always.
(function () {
  var type = document.getElementById("subject-subject_type");
  var which = document.getElementById("subcontractor-choice");
  if (!type || !which) { return; }
  function sync() { which.hidden = type.value !== "subcontractor_learner"; }
  type.addEventListener("change", sync);
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

// At narrow widths prevent.css lays each table row out as a stack of cells: name each cell by its column heading.
(function () {
  var tables = document.querySelectorAll("main table");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length) { return; }
    var names = Array.prototype.map.call(heads, function (th) { return th.textContent.replace(/\s+/g, " ").trim(); });
    Array.prototype.forEach.call(table.querySelectorAll("tbody > tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label")) { cell.setAttribute("data-label", names[column] || ""); }
        column += cell.colSpan || 1;
      });
    });
  });
}());

// Flask-AppBuilder's forms draw multiple choices with select2, whose widget has an unlabelled search box and a list
// that is not one; the browser's own select, labelled by the form, is kept instead.
if (window.jQuery) {
  window.jQuery(function ($) {
    if (!$.fn.select2) { return; }
    $(".my_select2").each(function () { if ($(this).data("select2")) { $(this).select2("destroy"); } });
  });
}

// A group of the menu closes when focus leaves it (by Tab or a click elsewhere), so that it never covers the page.
if (window.jQuery) {
  document.addEventListener("focusin", function (event) {
    window.jQuery("header .dropdown.open").each(function () {
      if (!this.contains(event.target)) { window.jQuery(this).find(".dropdown-toggle").dropdown("toggle"); }
    });
  });
}
