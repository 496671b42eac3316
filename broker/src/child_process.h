// Starting a server program (Mosquitto, a NATS node) as a child process. Private to broker/.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "wattguard/base/expected.h"

namespace wattguard::broker {

// Forks and execs `program` (a path, or a name looked up in PATH) with `args` after argv[0]: stdin and stdout on
// /dev/null, stderr appended to `stderr_path` (created 0600). The child starts with no signal blocked (commands
// block SIGINT/SIGTERM to collect them, and the mask would survive exec) and gets SIGTERM when the thread that
// started it ends, so a crashed test leaves no server behind: start it from a thread that lives as long as it
// should. Returns the child's pid; kUnavailable when fork fails (an exec failure is the child's exit status 127).
Expected<pid_t> spawn_child(const std::string& program, const std::vector<std::string>& args,
                            const std::string& stderr_path);

}  // namespace wattguard::broker
