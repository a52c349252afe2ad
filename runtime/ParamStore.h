// ParamStore: the model's dense parameters by name, each a contiguous aligned
// float buffer, with a gradient buffer of the same shape next to it. Step
// functions read parameters and write gradients in place (the trainer binds
// these buffers directly), so no copy happens between a step and its update.
// Parameters keep the plan's order; indices are stable for the store's life.
#pragma once

#include "runtime/ModelPlan.h"
#include "runtime/Tensor.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace recc::rt {

class ParamStore {
public:
  /// Adds a zero-filled parameter (and its zero gradient); returns its index.
  /// Throws a RuntimeError if the name is taken.
  int add(const std::string& name, const Shape& shape);
  /// Adds and initializes every parameter of `specs` from `seed`.
  void addAll(const std::vector<ParamSpec>& specs, uint64_t seed);

  int size() const { return static_cast<int>(Entries.size()); }
  /// Index of a parameter, or -1.
  int indexOf(const std::string& name) const;
  const std::string& name(int i) const { return Entries[i].Name; }
  Tensor& value(int i) { return Entries[i].Value; }
  const Tensor& value(int i) const { return Entries[i].Value; }
  Tensor& grad(int i) { return Entries[i].Grad; }
  const Tensor& grad(int i) const { return Entries[i].Grad; }
  /// The parameter named `name`; throws a RuntimeError if there is none.
  Tensor& value(const std::string& name);
  Tensor& grad(const std::string& name);

private:
  struct Entry {
    std::string Name;
    Tensor Value, Grad;
  };
  int require(const std::string& name) const;
  std::vector<Entry> Entries;
  std::unordered_map<std::string, int> Index;
};

} // namespace recc::rt
