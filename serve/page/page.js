// The try-it page of onnxrun serve. It lists the models (GET try/models.json for the names and any image
// preprocessing, GET v2/models/NAME for the inputs and outputs), runs a JSON request for any model, and for
// an image model turns a drawing or an image file into the input tensor exactly as the model's settings
// (NAME.json "preprocess") say, then shows the top classes. URLs are relative so that the page also works
// behind a path prefix. A token, when given, goes out as "Authorization: Bearer TOKEN" on every request.
"use strict";

const topCount = 5;

function authHeaders(extra) {
  const headers = Object.assign({}, extra);
  const token = document.getElementById("token").value.trim();
  if (token) headers["Authorization"] = "Bearer " + token;
  return headers;
}

// request fetches url and returns its JSON body, or throws the server's {"error": ...} message.
async function request(url, options) {
  const response = await fetch(url, options);
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Error(response.status + " " + response.statusText + ": " + text.slice(0, 200));
  }
  if (!response.ok) throw new Error(response.status + ": " + (body.error || text));
  return body;
}

function getJSON(url) {
  return request(url, { headers: authHeaders() });
}

function postJSON(url, value) {
  return request(url, {
    method: "POST",
    headers: authHeaders({ "Content-Type": "application/json" }),
    body: typeof value === "string" ? value : JSON.stringify(value),
  });
}

function setStatus(element, text, isError) {
  element.textContent = text;
  element.classList.toggle("error", Boolean(isError));
}

function modelURL(name) {
  return "v2/models/" + encodeURIComponent(name);
}

async function loadModels() {
  const main = document.getElementById("models");
  main.replaceChildren();
  const status = document.createElement("p");
  status.className = "status";
  status.id = "models-status";
  main.append(status);
  setStatus(status, "Loading the models…");
  try {
    const list = await getJSON("try/models.json");
    const metas = await Promise.all(list.models.map((m) => getJSON(modelURL(m.name))));
    status.remove();
    list.models.forEach((m, i) => main.append(renderModel(m, metas[i])));
    document.body.dataset.loaded = String(list.models.length);
  } catch (err) {
    setStatus(status, "Could not list the models: " + err.message + " (if the server needs a token, enter it above)", true);
  }
}

function renderModel(model, meta) {
  const section = document.getElementById("model-template").content.firstElementChild.cloneNode(true);
  section.dataset.model = model.name;
  section.querySelector(".name").textContent = model.name;
  const rows = section.querySelector(".tensors tbody");
  for (const [kind, tensors] of [["input", meta.inputs], ["output", meta.outputs]]) {
    for (const t of tensors) {
      const row = rows.insertRow();
      for (const text of [kind, t.name, t.datatype, "[" + t.shape.join(", ") + "]"]) {
        row.insertCell().textContent = text;
      }
    }
  }
  setUpJSONForm(section, model, meta);
  if (model.preprocess) setUpImage(section, model, meta);
  return section;
}

// A request template: every variable dimension set to 1, the data zeros when it is small enough to edit.
function templateRequest(meta) {
  return {
    inputs: meta.inputs.map((t) => {
      const shape = t.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((a, b) => a * b, 1);
      const zero = t.datatype === "BOOL" ? false : t.datatype === "BYTES" ? "" : 0;
      return { name: t.name, shape: shape, datatype: t.datatype, data: count <= 256 ? new Array(count).fill(zero) : [] };
    }),
  };
}

function setUpJSONForm(section, model, meta) {
  const textarea = section.querySelector(".request");
  const status = section.querySelector(".json-status");
  const output = section.querySelector(".response");
  textarea.value = JSON.stringify(templateRequest(meta), null, 1);
  section.querySelector(".run").addEventListener("click", async () => {
    setStatus(status, "Running…");
    output.textContent = "";
    try {
      JSON.parse(textarea.value);
    } catch (err) {
      setStatus(status, "The request is not valid JSON: " + err.message, true);
      return;
    }
    try {
      const started = performance.now();
      const response = await postJSON(modelURL(model.name) + "/infer", textarea.value);
      output.textContent = JSON.stringify(response, null, 1);
      setStatus(status, "Answered in " + Math.round(performance.now() - started) + " ms.");
      section.dataset.jsonDone = "ok";
    } catch (err) {
      setStatus(status, err.message, true);
      section.dataset.jsonDone = "error";
    }
  });
}

function perChannel(values, channels, fallback) {
  if (!values || values.length === 0) return new Array(channels).fill(fallback);
  if (values.length === 1) return new Array(channels).fill(values[0]);
  return values;
}

// imageTensor turns an image (a canvas or an <img>) into a batch of one, as ImagePreprocess says: resize to
// width x height, take 1 (gray, ITU-R BT.601 luma) or 3 (RGB) channels, multiply by scale, invert (1 - v),
// subtract the mean and divide by the std per channel, lay out as NCHW or NHWC. Transparent pixels count as
// white paper, like the drawing canvas.
function imageTensor(source, p) {
  const width = p.width, height = p.height, channels = p.channels;
  const resized = document.createElement("canvas");
  resized.width = width;
  resized.height = height;
  const ctx = resized.getContext("2d", { willReadFrequently: true });
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(source, 0, 0, width, height);
  const pixels = ctx.getImageData(0, 0, width, height).data;
  const scale = p.scale || 1 / 255;
  const mean = perChannel(p.mean, channels, 0);
  const std = perChannel(p.std, channels, 1);
  const nhwc = (p.layout || "NCHW").toUpperCase() === "NHWC";
  const plane = width * height;
  const data = new Array(plane * channels);
  for (let i = 0; i < plane; i++) {
    const r = pixels[4 * i], g = pixels[4 * i + 1], b = pixels[4 * i + 2];
    for (let c = 0; c < channels; c++) {
      let v = channels === 1 ? 0.299 * r + 0.587 * g + 0.114 * b : [r, g, b][c];
      v *= scale;
      if (p.invert) v = 1 - v;
      v = (v - mean[c]) / std[c];
      data[nhwc ? i * channels + c : c * plane + i] = v;
    }
  }
  return { shape: nhwc ? [1, height, width, channels] : [1, channels, height, width], data: data };
}

// probabilities returns scores as probabilities: unchanged when they already are (each in [0, 1], summing
// to 1), else their softmax.
function probabilities(scores) {
  const sum = scores.reduce((a, b) => a + b, 0);
  if (scores.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return scores;
  const top = Math.max(...scores);
  const exps = scores.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}

function describePreprocess(p) {
  const parts = [p.width + "×" + p.height, p.channels === 1 ? "gray" : "RGB", "× " + (p.scale || 1 / 255).toPrecision(4)];
  if (p.invert) parts.push("inverted");
  if (p.mean && p.mean.length) parts.push("mean " + p.mean.join("/"));
  if (p.std && p.std.length) parts.push("std " + p.std.join("/"));
  parts.push((p.layout || "NCHW").toUpperCase());
  return "Sent as " + parts.join(", ") + ".";
}

function setUpImage(section, model, meta) {
  const p = model.preprocess;
  const panel = section.querySelector(".image");
  const canvas = section.querySelector(".draw");
  const status = section.querySelector(".image-status");
  const list = section.querySelector(".top");
  panel.hidden = false;
  section.querySelector(".preprocess-note").textContent = describePreprocess(p);
  const ctx = canvas.getContext("2d");
  const clear = () => {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    list.replaceChildren();
    delete section.dataset.topClass;
    setStatus(status, "");
  };
  clear();

  // Drawing: black ink on white paper, a stroke about a tenth of the canvas wide, as a pen digit scaled down.
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = point(event);
    ctx.strokeStyle = "#000";
    ctx.lineWidth = canvas.width / 12;
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(next[0], next[1]);
    ctx.stroke();
    last = next;
  });
  const endStroke = () => {
    if (last) predict();
    last = null;
  };
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", () => { last = null; });

  const showImage = (file) => {
    if (!file || !file.type.startsWith("image/")) {
      setStatus(status, "Not an image file.", true);
      return;
    }
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      clear();
      // Fit the image in the canvas keeping its aspect ratio; preprocessing then resizes the canvas.
      const fit = Math.min(canvas.width / img.width, canvas.height / img.height);
      const w = img.width * fit, h = img.height * fit;
      ctx.drawImage(img, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      URL.revokeObjectURL(url);
      predict();
    };
    img.onerror = () => setStatus(status, "The browser cannot read this image.", true);
    img.src = url;
  };
  const drop = section.querySelector(".drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    showImage(event.dataTransfer.files[0]);
  });
  section.querySelector(".file").addEventListener("change", (event) => showImage(event.target.files[0]));
  section.querySelector(".clear").addEventListener("click", clear);

  const inputName = p.input || (meta.inputs.length === 1 ? meta.inputs[0].name : "");
  const input = meta.inputs.find((t) => t.name === inputName);
  const integer = input && !/^(FP|BF)/.test(input.datatype);
  let pending = 0;
  async function predict() {
    if (!input) {
      setStatus(status, "The settings name no input of this model (" + meta.inputs.map((t) => t.name).join(", ") + "): set preprocess.input.", true);
      return;
    }
    const tensor = imageTensor(canvas, p);
    const data = integer ? tensor.data.map(Math.round) : tensor.data;
    const id = ++pending;
    setStatus(status, "Predicting…");
    try {
      const response = await postJSON(modelURL(model.name) + "/infer", {
        inputs: [{ name: input.name, shape: tensor.shape, datatype: input.datatype, data: data }],
      });
      if (id !== pending) return; // a later stroke has its own request
      // The scores are the first floating-point output (a classifier may also output its argmax).
      showTop(response.outputs.find((o) => /^(FP|BF)/.test(o.datatype)) || response.outputs[0]);
      setStatus(status, "");
    } catch (err) {
      if (id === pending) setStatus(status, err.message, true);
    }
  }
  section.querySelector(".predict").addEventListener("click", predict);

  function showTop(output) {
    const probs = probabilities(output.data.map(Number));
    const order = probs.map((v, i) => i).sort((a, b) => probs[b] - probs[a]).slice(0, topCount);
    list.replaceChildren(...order.map((cls) => {
      const item = document.createElement("li");
      item.dataset.class = String(cls);
      const label = document.createElement("span");
      label.textContent = (p.labels && p.labels[cls]) || String(cls);
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.width = (100 * probs[cls]).toFixed(1) + "%";
      const value = document.createElement("span");
      value.textContent = (100 * probs[cls]).toFixed(1) + "%";
      item.append(label, bar, value);
      return item;
    }));
    section.dataset.topClass = String(order[0]);
  }
}

document.getElementById("auth").addEventListener("submit", (event) => {
  event.preventDefault();
  loadModels();
});
loadModels();
