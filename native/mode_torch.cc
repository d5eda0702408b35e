// mode's libtorch engine: a small N-API addon over ATen (libtorch 1.13, Debian libtorch-dev).
//
// The TypeScript side (src/engine/torch/) owns architecture, shapes, initial weights, the shuffle
// order and the tfjs Layers file format; this addon owns tensors: a sequential network of Keras
// layers with Keras semantics (NHWC on the outside, Keras 'same' padding, Keras batch norm), a
// training session that runs batches on libuv worker threads, and batched forward passes that
// write any layer's outputs into caller-owned Float32Arrays. Weights cross the boundary in the
// tfjs layout (dense [in, out], conv [kh, kw, in, out]). Every C++ exception is caught here and
// reaches JavaScript as an Error with one line; TypeScript rethrows it as a ModeError.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

// Tensors held by live native objects (networks and training sessions), for leak tests.
std::atomic<int64_t> g_liveTensors{0};
// Intra-op threads for ATen (OpenMP); applied per worker thread before it computes.
std::atomic<int> g_threads{2};

void useThreads() {
  thread_local int current = -1;
  const int wanted = g_threads.load();
  if (current != wanted) {
    at::set_num_threads(wanted);
    current = wanted;
  }
}

std::string firstLine(const std::string& text) {
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

// ---------------------------------------------------------------------------------------------
// Layers

enum class Kind { Dense, Conv, MaxPool, AvgPool, Flatten, Dropout, BatchNorm, Activation };
enum class Act { Linear, Relu, Tanh, Sigmoid, Elu, Softmax };

struct Layer {
  Kind kind = Kind::Flatten;
  Act act = Act::Linear;
  int64_t units = 0;    // dense units, conv filters
  int64_t kernel = 1;   // conv kernel, pool size
  int64_t stride = 1;
  bool same = false;
  bool useBias = true;
  double rate = 0;          // dropout
  double momentum = 0.99;   // batch norm, Keras convention (weight of the old value)
  double epsilon = 1e-3;
  std::vector<int64_t> inShape;  // without batch, channels last
  // dense: kernel [in, out], bias [out]; conv: kernel [out, in, kh, kw] (torch layout), bias [out];
  // batch norm: gamma, beta, moving_mean, moving_variance.
  std::vector<at::Tensor> params;
  std::vector<bool> trainable;
};

Kind kindOf(const std::string& name) {
  if (name == "dense") return Kind::Dense;
  if (name == "conv2d") return Kind::Conv;
  if (name == "maxPool2d") return Kind::MaxPool;
  if (name == "averagePooling2d") return Kind::AvgPool;
  if (name == "flatten") return Kind::Flatten;
  if (name == "dropout") return Kind::Dropout;
  if (name == "batchNormalization") return Kind::BatchNorm;
  if (name == "activation") return Kind::Activation;
  throw std::invalid_argument("unknown layer kind '" + name + "'");
}

Act actOf(const std::string& name) {
  if (name == "linear" || name.empty()) return Act::Linear;
  if (name == "relu") return Act::Relu;
  if (name == "tanh") return Act::Tanh;
  if (name == "sigmoid") return Act::Sigmoid;
  if (name == "elu") return Act::Elu;
  if (name == "softmax") return Act::Softmax;
  throw std::invalid_argument("unknown activation '" + name + "'");
}

// A value flowing through the network: rank-4 values are NHWC or NCHW (converted lazily, since
// convolutions want NCHW and flatten/dense want NHWC); other ranks have features last.
struct NetValue {
  at::Tensor t;
  bool nchw = false;
};

at::Tensor asNCHW(NetValue& v) {
  if (v.t.dim() == 4 && !v.nchw) {
    v.t = v.t.permute({0, 3, 1, 2}).contiguous();
    v.nchw = true;
  }
  return v.t;
}

at::Tensor asNHWC(NetValue& v) {
  if (v.t.dim() == 4 && v.nchw) {
    v.t = v.t.permute({0, 2, 3, 1});
    v.nchw = false;
  }
  return v.t;
}

int64_t channelDim(const NetValue& v) { return v.t.dim() == 4 && v.nchw ? 1 : v.t.dim() - 1; }

at::Tensor activate(Act act, const at::Tensor& x, int64_t dim) {
  switch (act) {
    case Act::Linear: return x;
    case Act::Relu: return at::relu(x);
    case Act::Tanh: return at::tanh(x);
    case Act::Sigmoid: return at::sigmoid(x);
    case Act::Elu: return at::elu(x);
    case Act::Softmax: return at::softmax(x, dim);
  }
  return x;
}

// Keras 'same' padding: the output is ceil(in / stride); any odd padding goes to the bottom/right.
std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t kernel, int64_t stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

struct Padding {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
  bool symmetric() const { return top == bottom && left == right; }
  bool any() const { return top + bottom + left + right > 0; }
};

Padding paddingFor(const Layer& layer, const at::Tensor& nchw) {
  Padding p;
  if (!layer.same) return p;
  std::tie(p.top, p.bottom) = samePadding(nchw.size(2), layer.kernel, layer.stride);
  std::tie(p.left, p.right) = samePadding(nchw.size(3), layer.kernel, layer.stride);
  return p;
}

// Forward through one layer. `train`: batch statistics for batch norm (and their moving averages
// updated); `dropout`: dropout on (in training, and in MC-dropout inference with batch norm in eval
// mode); `generator` seeds dropout; `logits`: skip a final softmax.
NetValue forwardLayer(Layer& layer, NetValue v, bool train, bool dropout, at::Generator* generator, bool logits) {
  switch (layer.kind) {
    case Kind::Dense: {
      const at::Tensor& w = layer.params[0];
      at::Tensor y;
      if (v.t.dim() == 2) {
        y = layer.useBias ? at::addmm(layer.params[1], v.t, w) : at::mm(v.t, w);
      } else {
        y = at::matmul(asNHWC(v), w);
        if (layer.useBias) y = y + layer.params[1];
      }
      return NetValue{logits ? y : activate(layer.act, y, y.dim() - 1), false};
    }
    case Kind::Conv: {
      at::Tensor x = asNCHW(v);
      const Padding p = paddingFor(layer, x);
      at::Tensor bias = layer.useBias ? layer.params[1] : at::Tensor();
      at::Tensor y;
      if (p.symmetric()) {
        y = at::conv2d(x, layer.params[0], bias, {layer.stride, layer.stride}, {p.top, p.left});
      } else {
        y = at::conv2d(at::constant_pad_nd(x, {p.left, p.right, p.top, p.bottom}, 0), layer.params[0], bias, {layer.stride, layer.stride});
      }
      return NetValue{activate(layer.act, y, 1), true};
    }
    case Kind::MaxPool: {
      at::Tensor x = asNCHW(v);
      const Padding p = paddingFor(layer, x);
      if (p.any()) x = at::constant_pad_nd(x, {p.left, p.right, p.top, p.bottom}, -std::numeric_limits<double>::infinity());
      return NetValue{at::max_pool2d(x, {layer.kernel, layer.kernel}, {layer.stride, layer.stride}), true};
    }
    case Kind::AvgPool: {
      at::Tensor x = asNCHW(v);
      const Padding p = paddingFor(layer, x);
      const std::vector<int64_t> k{layer.kernel, layer.kernel};
      const std::vector<int64_t> s{layer.stride, layer.stride};
      if (p.symmetric()) {
        // Keras averages over the window's cells inside the input only.
        return NetValue{at::avg_pool2d(x, k, s, {p.top, p.left}, false, false), true};
      }
      const std::vector<int64_t> pad{p.left, p.right, p.top, p.bottom};
      at::Tensor sums = at::avg_pool2d(at::constant_pad_nd(x, pad, 0), k, s, 0, false, true);
      at::Tensor ones = at::ones({1, 1, x.size(2), x.size(3)}, x.options());
      at::Tensor counts = at::avg_pool2d(at::constant_pad_nd(ones, pad, 0), k, s, 0, false, true);
      return NetValue{sums / counts, true};
    }
    case Kind::Flatten: {
      if (v.t.dim() <= 2) return v;
      at::Tensor x = asNHWC(v);
      return NetValue{x.reshape({x.size(0), -1}), false};
    }
    case Kind::Dropout: {
      if (!dropout || layer.rate <= 0) return v;
      const double keep = 1.0 - layer.rate;
      at::Tensor mask = at::empty_like(v.t).bernoulli_(keep, *generator);
      return NetValue{v.t * mask * (1.0 / keep), v.nchw};
    }
    case Kind::BatchNorm: {
      at::Tensor x = v.t.dim() == 4 ? asNCHW(v) : v.t;
      std::vector<int64_t> dims, shape(x.dim(), 1);
      const int64_t channels = x.size(x.dim() == 4 ? 1 : x.dim() - 1);
      if (x.dim() == 4) {
        dims = {0, 2, 3};
        shape[1] = channels;
      } else {
        for (int64_t d = 0; d < x.dim() - 1; d++) dims.push_back(d);
        shape[x.dim() - 1] = channels;
      }
      const at::Tensor& gamma = layer.params[0];
      const at::Tensor& beta = layer.params[1];
      at::Tensor& movingMean = layer.params[2];
      at::Tensor& movingVariance = layer.params[3];
      at::Tensor mean, variance;
      if (train) {
        mean = x.mean(dims, true);
        variance = (x - mean).square().mean(dims, true);  // biased, as Keras normalises and averages
        at::NoGradGuard noGrad;
        const double m = layer.momentum;
        movingMean.mul_(m).add_(mean.detach().reshape({channels}), 1.0 - m);
        movingVariance.mul_(m).add_(variance.detach().reshape({channels}), 1.0 - m);
      } else {
        mean = movingMean.reshape(shape);
        variance = movingVariance.reshape(shape);
      }
      at::Tensor y = (x - mean) * at::rsqrt(variance + layer.epsilon) * gamma.reshape(shape) + beta.reshape(shape);
      return NetValue{y, x.dim() == 4};
    }
    case Kind::Activation:
      return NetValue{activate(layer.act, v.t, channelDim(v)), v.nchw};
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Networks

// The largest sub-batch that inference runs convolutions on (see Forward).
constexpr int64_t kConvBatch = 64;

struct NetState {
  std::mutex mutex;
  std::vector<Layer> layers;
  std::vector<int64_t> inShape;
  int64_t inputSize = 1;
  bool disposed = false;
  int64_t counted = 0;

  void count() {
    counted = 0;
    for (auto& l : layers) counted += static_cast<int64_t>(l.params.size());
    g_liveTensors += counted;
  }
  void release() {
    if (disposed) return;
    disposed = true;
    g_liveTensors -= counted;
    counted = 0;
    layers.clear();
  }
  ~NetState() { release(); }
  void check() const {
    if (disposed) throw std::runtime_error("the model was used after dispose()");
  }
  // The layers before the first dense layer when a convolution is among them, else 0: inference runs
  // them in sub-batches (see Forward).
  int64_t convolutionalPrefix() const {
    bool conv = false;
    for (size_t i = 0; i < layers.size(); i++) {
      if (layers[i].kind == Kind::Dense) return conv ? static_cast<int64_t>(i) : 0;
      conv = conv || layers[i].kind == Kind::Conv;
    }
    return 0;
  }
  std::vector<at::Tensor> trainableParams() {
    std::vector<at::Tensor> out;
    for (auto& l : layers)
      for (size_t i = 0; i < l.params.size(); i++)
        if (l.trainable[i]) out.push_back(l.params[i]);
    return out;
  }
  bool softmaxOutput() const {
    return !layers.empty() && layers.back().kind == Kind::Dense && layers.back().act == Act::Softmax;
  }
};

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<int64_t> intsOf(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw std::invalid_argument(std::string(what) + " must be an array of integers");
  auto array = value.As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(array.Get(i).As<Napi::Number>().Int64Value());
  return out;
}

Layer layerOf(const Napi::Object& spec) {
  Layer layer;
  layer.kind = kindOf(spec.Get("kind").As<Napi::String>().Utf8Value());
  auto number = [&](const char* key, double fallback) {
    auto v = spec.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
  };
  auto act = spec.Get("activation");
  layer.act = act.IsString() ? actOf(act.As<Napi::String>().Utf8Value()) : Act::Linear;
  layer.units = static_cast<int64_t>(number("units", 0));
  layer.kernel = static_cast<int64_t>(number("kernel", 1));
  layer.stride = static_cast<int64_t>(number("stride", 1));
  layer.rate = number("rate", 0);
  layer.momentum = number("momentum", 0.99);
  layer.epsilon = number("epsilon", 1e-3);
  auto padding = spec.Get("padding");
  layer.same = padding.IsString() && padding.As<Napi::String>().Utf8Value() == "same";
  auto useBias = spec.Get("useBias");
  layer.useBias = !useBias.IsBoolean() || useBias.As<Napi::Boolean>().Value();
  layer.inShape = intsOf(spec.Get("inShape"), "inShape");
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  auto param = [&](at::Tensor t, bool trainable) {
    layer.params.push_back(trainable ? t.requires_grad_(true) : t);
    layer.trainable.push_back(trainable);
  };
  const int64_t channels = layer.inShape.empty() ? 0 : layer.inShape.back();
  switch (layer.kind) {
    case Kind::Dense:
      if (layer.units <= 0 || channels <= 0) throw std::invalid_argument("dense layer needs units and an input size");
      param(at::zeros({channels, layer.units}, opts), true);
      if (layer.useBias) param(at::zeros({layer.units}, opts), true);
      break;
    case Kind::Conv:
      if (layer.inShape.size() != 3) throw std::invalid_argument("conv2d needs inputs of shape [h, w, c]");
      param(at::zeros({layer.units, channels, layer.kernel, layer.kernel}, opts), true);
      if (layer.useBias) param(at::zeros({layer.units}, opts), true);
      break;
    case Kind::MaxPool:
    case Kind::AvgPool:
      if (layer.inShape.size() != 3) throw std::invalid_argument("pooling needs inputs of shape [h, w, c]");
      break;
    case Kind::BatchNorm:
      param(at::ones({channels}, opts), true);
      param(at::zeros({channels}, opts), true);
      param(at::zeros({channels}, opts), false);
      param(at::ones({channels}, opts), false);
      break;
    default:
      break;
  }
  return layer;
}

// The tfjs layout of a parameter (conv kernels are [kh, kw, in, out] there, [out, in, kh, kw] here).
at::Tensor toTfjs(const Layer& layer, size_t index) {
  const at::Tensor& p = layer.params[index];
  if (layer.kind == Kind::Conv && index == 0) return p.detach().permute({2, 3, 1, 0}).contiguous();
  return p.detach().contiguous();
}

void fromTfjs(Layer& layer, size_t index, const float* data, int64_t length, size_t position) {
  at::Tensor& p = layer.params[index];
  if (length != p.numel()) {
    throw std::invalid_argument("weight " + std::to_string(position) + " holds " + std::to_string(length) + " values, expected " + std::to_string(p.numel()));
  }
  at::NoGradGuard noGrad;
  at::Tensor source;
  if (layer.kind == Kind::Conv && index == 0) {
    source = at::from_blob(const_cast<float*>(data), {p.size(2), p.size(3), p.size(1), p.size(0)}, at::kFloat).permute({3, 2, 0, 1});
  } else {
    source = at::from_blob(const_cast<float*>(data), p.sizes(), at::kFloat);
  }
  p.detach().copy_(source);
}

// Runs layers [from, to) of the network on v (inputs are [n, ...inShape], channels last), calling
// `capture(i, value)` after layer i.
NetValue runLayers(NetState& net, NetValue v, int64_t from, int64_t to, bool train, bool dropout, at::Generator* generator, bool logits,
                   const std::function<void(int64_t, NetValue&)>& capture) {
  for (int64_t i = from; i < to; i++) {
    const bool isLast = i == static_cast<int64_t>(net.layers.size()) - 1;
    v = forwardLayer(net.layers[i], v, train, dropout, generator, logits && isLast);
    if (capture) capture(i, v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Async work: a lambda on a libuv worker thread, a promise settled on the JS thread.

class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  Task(Napi::Env env, Work work, Done done, std::vector<Napi::Value> keep)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), done_(std::move(done)) {
    for (auto& v : keep) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  /** Queues `work` on a libuv worker thread; the promise settles with `done`'s value (undefined without one). */
  static Napi::Promise Start(Napi::Env env, Work work, Done done, std::vector<Napi::Value> keep) {
    auto* task = new Task(env, std::move(work), std::move(done), std::move(keep));
    task->Queue();
    return task->deferred_.Promise();
  }
  void Execute() override {
    try {
      useThreads();
      work_();
    } catch (const c10::Error& e) {
      SetError(firstLine(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      SetError(firstLine(e.what()));
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(done_ ? done_(Env()) : Env().Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::vector<Napi::ObjectReference> keep_;
};

#define GUARD_BEGIN try {
#define GUARD_END(env)                                                          \
  }                                                                             \
  catch (const Napi::Error&) {                                                  \
    throw;                                                                      \
  }                                                                             \
  catch (const c10::Error& e) {                                                 \
    throw Napi::Error::New(env, firstLine(e.what_without_backtrace()));         \
  }                                                                             \
  catch (const std::exception& e) {                                             \
    throw Napi::Error::New(env, firstLine(e.what()));                           \
  }

class Net : public Napi::ObjectWrap<Net> {
 public:
  static Napi::FunctionReference constructor;

  static Napi::Function Init(Napi::Env env) {
    Napi::Function ctor = DefineClass(env, "Net", {
      InstanceMethod("setWeights", &Net::SetWeights),
      InstanceMethod("getWeights", &Net::GetWeights),
      InstanceMethod("clone", &Net::Clone),
      InstanceMethod("forward", &Net::Forward),
      InstanceMethod("dispose", &Net::Dispose),
    });
    constructor = Napi::Persistent(ctor);
    constructor.SuppressDestruct();
    return ctor;
  }

  // new Net(layers: LayerSpec[], inShape: number[]) or new Net() (then `state` is set by clone).
  explicit Net(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Net>(info) {
    Napi::Env env = info.Env();
    if (info.Length() == 0) return;
    GUARD_BEGIN
    auto state = std::make_shared<NetState>();
    state->inShape = intsOf(info[1], "inShape");
    state->inputSize = product(state->inShape);
    auto specs = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < specs.Length(); i++) state->layers.push_back(layerOf(specs.Get(i).As<Napi::Object>()));
    state->count();
    state_ = state;
    GUARD_END(env)
  }

  std::shared_ptr<NetState> state() const {
    if (!state_) throw std::runtime_error("the model was used after dispose()");
    return state_;
  }

 private:
  std::shared_ptr<NetState> state_;

  Napi::Value SetWeights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    auto net = state();
    std::lock_guard<std::mutex> lock(net->mutex);
    net->check();
    auto arrays = info[0].As<Napi::Array>();
    size_t position = 0;
    for (auto& layer : net->layers) {
      for (size_t i = 0; i < layer.params.size(); i++, position++) {
        if (position >= arrays.Length()) throw std::invalid_argument("too few weights: got " + std::to_string(arrays.Length()));
        auto a = arrays.Get(static_cast<uint32_t>(position)).As<Napi::Float32Array>();
        fromTfjs(layer, i, a.Data(), static_cast<int64_t>(a.ElementLength()), position);
      }
    }
    if (position != arrays.Length()) throw std::invalid_argument("too many weights: got " + std::to_string(arrays.Length()) + ", expected " + std::to_string(position));
    return env.Undefined();
    GUARD_END(env)
  }

  Napi::Value GetWeights(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    auto net = state();
    std::lock_guard<std::mutex> lock(net->mutex);
    net->check();
    auto out = Napi::Array::New(env);
    uint32_t k = 0;
    for (auto& layer : net->layers) {
      for (size_t i = 0; i < layer.params.size(); i++) {
        at::Tensor t = toTfjs(layer, i);
        auto a = Napi::Float32Array::New(env, t.numel());
        std::memcpy(a.Data(), t.data_ptr<float>(), t.numel() * sizeof(float));
        out.Set(k++, a);
      }
    }
    return out;
    GUARD_END(env)
  }

  Napi::Value Clone(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    auto net = state();
    std::lock_guard<std::mutex> lock(net->mutex);
    net->check();
    auto twin = std::make_shared<NetState>();
    twin->inShape = net->inShape;
    twin->inputSize = net->inputSize;
    twin->layers = net->layers;
    at::NoGradGuard noGrad;
    for (auto& layer : twin->layers)
      for (size_t i = 0; i < layer.params.size(); i++) {
        layer.params[i] = layer.params[i].detach().clone();
        if (layer.trainable[i]) layer.params[i].requires_grad_(true);
      }
    twin->count();
    Napi::Object object = constructor.New({});
    Net::Unwrap(object)->state_ = twin;
    return object;
    GUARD_END(env)
  }

  // forward(x: Float32Array, count, batchSize, layers: Int32Array, outputs: Float32Array[], dropoutSeed?: number): Promise<void>
  // Writes the flattened (channels-last) outputs of each requested layer into its output array. With
  // a dropout seed, dropout is on (one generator seeded with it, drawn batch after batch; batch norm
  // stays in eval mode): one Monte Carlo dropout pass.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    auto net = state();
    auto x = info[0].As<Napi::Float32Array>();
    const int64_t count = info[1].As<Napi::Number>().Int64Value();
    const int64_t batchSize = std::max<int64_t>(1, info[2].As<Napi::Number>().Int64Value());
    auto layerArray = info[3].As<Napi::Int32Array>();
    auto outArray = info[4].As<Napi::Array>();
    std::vector<int64_t> layers(layerArray.Data(), layerArray.Data() + layerArray.ElementLength());
    std::vector<float*> outs;
    std::vector<int64_t> outSizes;
    std::vector<Napi::Value> keep{x, outArray};
    if (static_cast<int64_t>(x.ElementLength()) != count * net->inputSize) throw std::invalid_argument("input holds " + std::to_string(x.ElementLength()) + " values, expected " + std::to_string(count * net->inputSize));
    if (outArray.Length() != layers.size()) throw std::invalid_argument("one output array per layer is needed");
    int64_t last = -1;
    for (uint32_t i = 0; i < outArray.Length(); i++) {
      auto o = outArray.Get(i).As<Napi::Float32Array>();
      if (layers[i] < 0 || layers[i] >= static_cast<int64_t>(net->layers.size())) throw std::invalid_argument("layer index " + std::to_string(layers[i]) + " is out of range");
      if (count > 0 && o.ElementLength() % count != 0) throw std::invalid_argument("output array size is not a multiple of the input count");
      outs.push_back(o.Data());
      outSizes.push_back(count == 0 ? 0 : static_cast<int64_t>(o.ElementLength()) / count);
      keep.push_back(o);
      last = std::max(last, layers[i]);
    }
    const bool dropout = info.Length() > 5 && info[5].IsNumber();
    const uint64_t dropoutSeed = dropout ? static_cast<uint64_t>(info[5].As<Napi::Number>().Int64Value()) : 0;
    float* input = x.Data();
    std::vector<int64_t> shape{0};
    shape.insert(shape.end(), net->inShape.begin(), net->inShape.end());
    auto work = [net, input, count, batchSize, layers, outs, outSizes, last, shape, dropout, dropoutSeed]() mutable {
      std::lock_guard<std::mutex> lock(net->mutex);
      net->check();
      c10::InferenceMode inference;
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(dropoutSeed);
      // Writes layer i's output for the rows [row, row + rows) into the arrays that asked for it.
      auto capture = [&](int64_t i, NetValue& v, int64_t row, int64_t rows) {
        for (size_t k = 0; k < layers.size(); k++) {
          if (layers[k] != i) continue;
          // Written in NHWC order straight from a view: one copy, and v stays as the next layer wants it.
          at::Tensor nhwc = v.t.dim() == 4 && v.nchw ? v.t.permute({0, 2, 3, 1}) : v.t;
          const int64_t values = nhwc.numel() / rows;
          if (values != outSizes[k]) throw std::invalid_argument("layer " + std::to_string(i) + " outputs " + std::to_string(values) + " values per input, expected " + std::to_string(outSizes[k]));
          at::from_blob(outs[k] + row * outSizes[k], nhwc.sizes(), at::kFloat).copy_(nhwc);
        }
      };
      auto run = [&](NetValue v, int64_t from, int64_t to, int64_t row, int64_t rows) {
        return runLayers(*net, v, from, to, false, dropout, dropout ? &generator : nullptr, false,
                         [&](int64_t i, NetValue& out) { capture(i, out, row, rows); });
      };
      // Convolutions run in sub-batches of at most kConvBatch inputs, near-equal in size: on one
      // intra-op thread a batch of 256 ran the CNN's at about 0.65x the speed of 64 (docs/studies/speed.md),
      // and their outputs do not depend on the batch (src/engine/torch/engine.test.ts). The
      // dense layers see the whole batch as before, so their matrix products, whose rounding does
      // depend on the number of rows, are the same. Not with dropout on: its draws would come in
      // another order.
      const int64_t prefix = dropout ? 0 : std::min(net->convolutionalPrefix(), last + 1);
      for (int64_t start = 0; start < count && last >= 0; start += batchSize) {
        const int64_t size = std::min(batchSize, count - start);
        shape[0] = size;
        at::Tensor xs = at::from_blob(input + start * net->inputSize, shape, at::kFloat);
        const int64_t parts = prefix > 0 ? (size + kConvBatch - 1) / kConvBatch : 1;
        if (parts == 1) {
          run(NetValue{xs, false}, 0, last + 1, start, size);
          continue;
        }
        std::vector<at::Tensor> pieces;
        bool nchw = false;
        for (int64_t p = 0, row = 0; p < parts; p++) {
          const int64_t rows = size / parts + (p < size % parts ? 1 : 0);
          NetValue piece = run(NetValue{xs.narrow(0, row, rows), false}, 0, prefix, start + row, rows);
          pieces.push_back(piece.t);
          nchw = piece.nchw;
          row += rows;
        }
        run(NetValue{at::cat(pieces), nchw}, prefix, last + 1, start, size);
      }
    };
    return Task::Start(env, work, nullptr, keep);
    GUARD_END(env)
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (state_) {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->release();
    }
    state_.reset();
    return info.Env().Undefined();
  }
};

Napi::FunctionReference Net::constructor;

// ---------------------------------------------------------------------------------------------
// Training sessions: one per fit call, holding the data and the optimiser's state.

struct Optimizer {
  bool adam = true;
  double learningRate = 1e-3;
  double momentum = 0;
  // tfjs' Adam defaults (epsilon is tfjs' backend epsilon, 1e-7).
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7;
  int64_t step = 0;
  std::vector<at::Tensor> first, second;

  void apply(std::vector<at::Tensor>& params) {
    at::NoGradGuard noGrad;
    step++;
    if (first.empty()) {
      for (auto& p : params) {
        first.push_back(at::zeros_like(p));
        if (adam) second.push_back(at::zeros_like(p));
      }
    }
    const double correction1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double correction2 = 1 - std::pow(beta2, static_cast<double>(step));
    for (size_t i = 0; i < params.size(); i++) {
      at::Tensor& p = params[i];
      const at::Tensor& g = p.grad();
      if (!g.defined()) continue;
      if (adam) {
        first[i].mul_(beta1).add_(g, 1 - beta1);
        second[i].mul_(beta2).addcmul_(g, g, 1 - beta2);
        at::Tensor denominator = (second[i] / correction2).sqrt_().add_(epsilon);
        p.detach().addcdiv_(first[i], denominator, -learningRate / correction1);
      } else if (momentum > 0) {
        first[i].mul_(momentum).add_(g);
        p.detach().add_(first[i], -learningRate);
      } else {
        p.detach().add_(g, -learningRate);
      }
      p.mutable_grad().reset();
    }
  }
  int64_t tensors() const { return static_cast<int64_t>(first.size() + second.size()); }
};

class FitSession : public Napi::ObjectWrap<FitSession> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "FitSession", {
      InstanceMethod("run", &FitSession::Run),
      InstanceMethod("dispose", &FitSession::Dispose),
    });
  }

  // new FitSession(net, x: Float32Array, y: Int32Array, count, optimizer: {kind, learningRate, momentum})
  explicit FitSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FitSession>(info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    net_ = Net::Unwrap(info[0].As<Napi::Object>())->state();
    auto x = info[1].As<Napi::Float32Array>();
    auto y = info[2].As<Napi::Int32Array>();
    count_ = info[3].As<Napi::Number>().Int64Value();
    auto opt = info[4].As<Napi::Object>();
    state_ = std::make_shared<State>();
    state_->optimizer.adam = opt.Get("kind").As<Napi::String>().Utf8Value() == "adam";
    state_->optimizer.learningRate = opt.Get("learningRate").As<Napi::Number>().DoubleValue();
    auto momentum = opt.Get("momentum");
    state_->optimizer.momentum = momentum.IsNumber() ? momentum.As<Napi::Number>().DoubleValue() : 0.0;
    if (static_cast<int64_t>(x.ElementLength()) != count_ * net_->inputSize) throw std::invalid_argument("training input holds " + std::to_string(x.ElementLength()) + " values, expected " + std::to_string(count_ * net_->inputSize));
    if (static_cast<int64_t>(y.ElementLength()) < count_) throw std::invalid_argument("fewer labels than inputs");
    std::vector<int64_t> shape{count_};
    shape.insert(shape.end(), net_->inShape.begin(), net_->inShape.end());
    // x stays in the caller's array (kept alive by xRef_); labels are copied as int64.
    xRef_ = Napi::Persistent(static_cast<Napi::Object>(x));
    state_->x = at::from_blob(x.Data(), shape, at::kFloat);
    state_->y = at::from_blob(y.Data(), {count_}, at::kInt).to(at::kLong);
    state_->counted = 2;
    g_liveTensors += 2;
    GUARD_END(env)
  }

 private:
  struct State {
    std::mutex mutex;
    at::Tensor x, y;
    Optimizer optimizer;
    int64_t counted = 0;
    bool disposed = false;
    void release() {
      if (disposed) return;
      disposed = true;
      g_liveTensors -= counted;
      counted = 0;
      x = at::Tensor();
      y = at::Tensor();
      optimizer.first.clear();
      optimizer.second.clear();
    }
    ~State() { release(); }
  };
  std::shared_ptr<NetState> net_;
  std::shared_ptr<State> state_;
  Napi::ObjectReference xRef_;
  int64_t count_ = 0;

  // run(order: Int32Array, sizes: Int32Array, seeds: Uint32Array): Promise<Float64Array>
  // Trains one batch per entry of `sizes` on the rows of `order` in turn; returns loss and number
  // correct per batch (stopping after a batch whose loss is not finite).
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    GUARD_BEGIN
    if (!state_ || state_->disposed) throw std::runtime_error("training session used after dispose()");
    auto order = info[0].As<Napi::Int32Array>();
    auto sizes = info[1].As<Napi::Int32Array>();
    auto seeds = info[2].As<Napi::Uint32Array>();
    std::vector<int64_t> rows(order.Data(), order.Data() + order.ElementLength());
    std::vector<int64_t> batchSizes(sizes.Data(), sizes.Data() + sizes.ElementLength());
    std::vector<uint64_t> batchSeeds(seeds.Data(), seeds.Data() + seeds.ElementLength());
    int64_t total = 0;
    for (auto s : batchSizes) total += s;
    if (total != static_cast<int64_t>(rows.size()) || batchSeeds.size() != batchSizes.size()) throw std::invalid_argument("batch order, sizes and seeds do not agree");
    for (auto r : rows)
      if (r < 0 || r >= count_) throw std::invalid_argument("row " + std::to_string(r) + " is outside the training data");
    auto results = std::make_shared<std::vector<double>>();
    auto net = net_;
    auto state = state_;
    auto work = [net, state, rows, batchSizes, batchSeeds, results]() {
      std::lock_guard<std::mutex> netLock(net->mutex);
      std::lock_guard<std::mutex> stateLock(state->mutex);
      net->check();
      if (state->disposed) throw std::runtime_error("training session used after dispose()");
      std::vector<at::Tensor> params = net->trainableParams();
      const bool softmax = net->softmaxOutput();
      const int64_t last = static_cast<int64_t>(net->layers.size()) - 1;
      at::Tensor index = at::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())}, at::kLong);
      int64_t offset = 0;
      for (size_t b = 0; b < batchSizes.size(); b++) {
        const int64_t size = batchSizes[b];
        at::Tensor idx = index.narrow(0, offset, size);
        offset += size;
        at::Tensor xs = state->x.index_select(0, idx);
        at::Tensor ys = state->y.index_select(0, idx);
        at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(batchSeeds[b]);
        NetValue out = runLayers(*net, NetValue{xs, false}, 0, last + 1, true, true, &generator, softmax, nullptr);
        at::Tensor output = out.t.reshape({size, -1});
        at::Tensor loss;
        if (softmax) {
          loss = at::nll_loss(at::log_softmax(output, 1), ys);
        } else {
          // Keras' categorical cross-entropy on probabilities: normalise, clip, -log p[label].
          at::Tensor p = output / output.sum(1, true);
          p = p.clamp(1e-7, 1 - 1e-7);
          loss = -p.log().gather(1, ys.unsqueeze(1)).mean();
        }
        loss.backward();
        state->optimizer.apply(params);
        const double lossValue = loss.item<double>();
        const int64_t correct = output.detach().argmax(1).eq(ys).sum().item<int64_t>();
        results->push_back(lossValue);
        results->push_back(static_cast<double>(correct));
        if (!std::isfinite(lossValue)) break;
      }
      const int64_t now = state->optimizer.tensors();
      g_liveTensors += now - (state->counted - 2);
      state->counted = now + 2;
    };
    auto done = [results](Napi::Env env) -> Napi::Value {
      auto out = Napi::Float64Array::New(env, results->size());
      std::memcpy(out.Data(), results->data(), results->size() * sizeof(double));
      return out;
    };
    return Task::Start(env, work, done, {});
    GUARD_END(env)
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    if (state_) {
      std::lock_guard<std::mutex> lock(state_->mutex);
      state_->release();
    }
    state_.reset();
    net_.reset();
    if (!xRef_.IsEmpty()) xRef_.Reset();
    return info.Env().Undefined();
  }
};

// ---------------------------------------------------------------------------------------------
// Module functions

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_liveTensors.load()));
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
  g_threads = n;
  return info.Env().Undefined();
}

using BlasInt = int (*)();
using BlasSet = void (*)(int);
using BlasConfig = char* (*)();

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torch", TORCH_VERSION);
  out.Set("threads", g_threads.load());
  auto config = reinterpret_cast<BlasConfig>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  auto threads = reinterpret_cast<BlasInt>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  out.Set("blas", config != nullptr ? Napi::Value(Napi::String::New(env, config())) : env.Null());
  out.Set("blasThreads", threads != nullptr ? Napi::Value(Napi::Number::New(env, threads())) : env.Null());
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // OpenBLAS must not start its own thread pool next to ATen's threads (engine-notes.md): the
  // loader sets OPENBLAS_NUM_THREADS=1 before loading us; this holds it even if it was not.
  if (auto set = reinterpret_cast<BlasSet>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  exports.Set("Net", Net::Init(env));
  exports.Set("FitSession", FitSession::Init(env));
  exports.Set("liveTensors", Napi::Function::New(env, LiveTensors));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace

NODE_API_MODULE(mode_torch, Init)
