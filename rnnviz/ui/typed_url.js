// The address bar follows a text box as it is typed, written by the browser itself: a prediction
// box's keystroke then costs no URL message from the server (~20 ms of the browser's time before
// its chart updates, and a history entry per letter). The server writes the typed text along with
// any other setting that changes (rnnviz/ui/url.py), and the link it offers for copying reads it.

const WAIT_MS = 300; // after the last key: while a student types, the charts come first

export default function (component) {
  const boxes = component.data.boxes; // [{ key, param }]: a box's widget key and its URL parameter
  let pending = null; // [param, text] not yet in the address bar
  let timer = null;

  function write() {
    clearTimeout(timer);
    if (pending === null) return;
    const [param, text] = pending;
    pending = null;
    const url = new URL(window.location.href);
    if (url.searchParams.get(param) === text) return;
    url.searchParams.set(param, text);
    window.history.replaceState(window.history.state, "", url);
  }

  function typed(event) {
    const input = event.target;
    // Not the pinyin of a character an input method is still composing: the end of the composition is.
    if (!(input instanceof HTMLInputElement) || event.isComposing) return;
    const box = boxes.find(({ key }) => input.closest(`.st-key-${key}`));
    if (!box) return;
    pending = [box.param, input.value];
    clearTimeout(timer);
    timer = setTimeout(write, WAIT_MS);
  }

  document.addEventListener("input", typed, true);
  document.addEventListener("compositionend", typed, true);
  return () => {
    document.removeEventListener("input", typed, true);
    document.removeEventListener("compositionend", typed, true);
    write(); // a page run that re-mounts this must not lose the last keys
  };
}
