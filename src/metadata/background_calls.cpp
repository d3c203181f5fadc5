#include "metadata/background_calls.h"

namespace carelog::metadata {
namespace {
thread_local bool t_background_calls = false;
}  // namespace

BackgroundCallsScope::BackgroundCallsScope() : previous_(t_background_calls) { t_background_calls = true; }
BackgroundCallsScope::~BackgroundCallsScope() { t_background_calls = previous_; }
bool in_background_calls() { return t_background_calls; }

}  // namespace carelog::metadata
