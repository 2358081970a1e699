// Shows the police questions only once "immediate danger" is ticked; without script they are always shown.
(function () {
  var box = document.getElementById("immediate_danger");
  var details = document.getElementById("danger-details");
  if (!box || !details) { return; }
  function sync() { details.hidden = !box.checked; }
  box.addEventListener("change", sync);
  sync();
}());
