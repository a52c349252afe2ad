// OutputReady: a compiled step that says when an output is final. Under
// mpirun a train step is compiled with a call to recc_output_ready(i) after
// the last operation that touches gradient buffer i (the pass
// recc-notify-outputs), so that the dense gradients' sums over the ranks can
// start while the rest of the backward pass runs (StepRunner). The calls come
// from the thread that runs the step; with no receiver they do nothing.
#pragma once

#include <cstdint>
#include <functional>

extern "C" void recc_output_ready(int64_t buffer);

namespace recc::rt {

/// Receives this thread's recc_output_ready calls while it lives.
class OutputReadyReceiver {
public:
  explicit OutputReadyReceiver(std::function<void(int64_t buffer)> receive);
  ~OutputReadyReceiver();
  OutputReadyReceiver(const OutputReadyReceiver&) = delete;
  OutputReadyReceiver& operator=(const OutputReadyReceiver&) = delete;

private:
  std::function<void(int64_t)> Receive;
  const std::function<void(int64_t)>* Previous;
};

} // namespace recc::rt
