// OutputReady: see OutputReady.h.
#include "runtime/OutputReady.h"

namespace {
thread_local const std::function<void(int64_t)>* Current = nullptr;
} // namespace

extern "C" void recc_output_ready(int64_t buffer) {
  if (Current)
    (*Current)(buffer);
}

namespace recc::rt {

OutputReadyReceiver::OutputReadyReceiver(std::function<void(int64_t buffer)> receive)
    : Receive(std::move(receive)), Previous(Current) {
  Current = &Receive;
}

OutputReadyReceiver::~OutputReadyReceiver() { Current = Previous; }

} // namespace recc::rt
