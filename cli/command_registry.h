// Subcommand groups of the `wattguard` binary register themselves here, one file each,
// so adding a command never means editing a central list. Also how a command reports its outcome to main():
// an exit status or a wattguard::Error, never an exception.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "wattguard/base/error.h"
#include "wattguard/base/expected.h"

namespace wattguard::cli {

using AddCommands = void (*)(CLI::App& app);

// Called from a static initialiser in each command file; returns true so it can
// initialise a `static const bool`.
bool register_commands(const char* name, AddCommands add);

// Adds every registered group to `app`, in name order.
void add_all_commands(CLI::App& app);

// The subcommand `name` of `app`, created (requiring one subcommand of its own) if no file has
// made it yet: lets several files add commands under one group such as `bench`.
CLI::App* command_group(CLI::App& app, const std::string& name, const std::string& description);

// Exit status of a command that failed for a reason other than the user's input (I/O, the server, a bug).
inline constexpr int kExitFailure = 1;
// Exit status for input the user got wrong (bad option value, malformed file).
inline constexpr int kExitBadInput = 2;

// ---- a command's outcome ------------------------------------------------------------------
// A command's callback ends in finish(run_x(args)): the exit status it chose (0 when all went well), or the Error
// that stopped it. main() prints an Error's message as "wattguard: <message>" and exits with exit_status_for().
// The message is the whole line the user reads: it names the option or setting, the value and the file and line
// where there is one; field, value, source and line are filled as well for anyone who inspects the Error.

void finish(Expected<int> outcome);
void finish(const Expected<void>& outcome);  // success is exit status 0

// What the command that ran recorded with finish(); exit status 0 when none did.
const Expected<int>& command_outcome();

// kExitBadInput when the code puts the fault in what the user gave (invalid input, not found, already exists),
// else kExitFailure.
int exit_status_for(const Error& error);

// A callee's Error reported as the user's input at fault (exit 2): each command decides this for the files and
// settings the user named (an unreadable --db is theirs to fix), as it always has. A code that would not exit
// with 2 becomes kInvalidInput; message, field, value, source and line stay. The second form puts the words the
// command shows in place of the message (the option before it, or the Error's to_string()).
Error as_bad_input(Error cause);
Error as_bad_input(Error cause, std::string message);

// A callee's Error reported as a failure of the run (exit 1) though the callee saw invalid input: the command's
// own setup went wrong (the demo's server, its seeded grid), not what the user typed. A code that would exit
// with 2 becomes kInternal; the rest stays as in as_bad_input.
Error as_failure(Error cause);
Error as_failure(Error cause, std::string message);

// The common shape of a bad option value: "<option>: <what>", with the option as field and `value` as value.
Error option_error(const std::string& option, std::string value, const std::string& what);

}  // namespace wattguard::cli
