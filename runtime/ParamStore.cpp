// ParamStore: see ParamStore.h.
#include "runtime/ParamStore.h"

#include "runtime/Error.h"
#include "runtime/Init.h"

namespace recc::rt {

int ParamStore::add(const std::string& name, const Shape& shape) {
  if (Index.count(name))
    fail("duplicate parameter '{}'", name);
  for (int64_t d : shape)
    if (d <= 0)
      fail("parameter '{}' has invalid shape {}", name, shapeString(shape));
  Index.emplace(name, size());
  Entries.push_back({name, Tensor(shape), Tensor(shape)});
  return size() - 1;
}

void ParamStore::addAll(const std::vector<ParamSpec>& specs, uint64_t seed) {
  for (const ParamSpec& spec : specs) {
    int i = add(spec.name, spec.shape);
    initialize(spec.init, spec.name, seed, value(i));
  }
}

int ParamStore::indexOf(const std::string& name) const {
  auto it = Index.find(name);
  return it == Index.end() ? -1 : it->second;
}

int ParamStore::require(const std::string& name) const {
  int i = indexOf(name);
  if (i < 0)
    fail("no parameter named '{}'", name);
  return i;
}

Tensor& ParamStore::value(const std::string& name) { return value(require(name)); }
Tensor& ParamStore::grad(const std::string& name) { return grad(require(name)); }

} // namespace recc::rt
