// The time bank's pages: the statement's print button, and the desk form showing the field of
// the chosen confirmation (signature image or one-time code).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
function tbConfirmFields() {
  const chosen = document.querySelector("input[name=confirmation]:checked");
  document.querySelectorAll("[data-confirm-field]").forEach((el) => {
    el.hidden = !chosen || el.dataset.confirmField !== chosen.value;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.name === "confirmation") tbConfirmFields();
});
document.addEventListener("DOMContentLoaded", tbConfirmFields);
