// FileRead: reads a whole input file into memory with read(2). Not mmap: a
// mapped file that shrinks while it is read raises SIGBUS on the lost pages,
// and pipes, FIFOs and process substitutions (`--data <(zcat x.csv.gz)`)
// cannot be mapped at all; read(2) just ends early on the first and reads the
// others to their end. A directory is refused by name.
#pragma once

#include <string>

namespace recc::rt {

/// The contents of `path`, described as `what` ("data file", "model file") in
/// errors. Throws a RuntimeError:
///   x.csv: cannot open data file: No such file or directory
///   dir: is a directory, not a data file
///   x.csv: cannot read data file: Input/output error
std::string readWholeFile(const std::string& path, const char* what);

} // namespace recc::rt
