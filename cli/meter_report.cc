#include "cli/meter_report.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace wattguard::cli {
namespace {

// Rounds for output so JSON lines stay short and stable (no 0.30000000000000004).
double round_to(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

std::string flag_names(uint32_t flags) {
  std::string s;
  auto add = [&](uint32_t bit, const char* name) {
    if ((flags & bit) == 0) return;
    if (!s.empty()) s += ',';
    s += name;
  };
  add(core::kFlagNoVoltage, "no_voltage");
  add(core::kFlagVoltageClipped, "v_clipped");
  add(core::kFlagCurrentClipped, "i_clipped");
  add(core::kFlagLoadPresent, "load");
  add(core::kFlagSettling, "settling");
  return s.empty() ? "-" : s;
}

}  // namespace

double percent_error(double measured, double truth) {
  if (truth == 0.0) return measured == 0.0 ? 0.0 : std::numeric_limits<double>::quiet_NaN();
  return (measured - truth) / std::fabs(truth) * 100.0;
}

void MeterReport::header() {
  if (header_done_ || options_.json) return;
  header_done_ = true;
  std::fprintf(out_, "%8s %8s %8s %9s %9s %9s %7s %8s %12s %12s  %s\n", "t_s", "Vrms", "Irms", "P_W", "Q_var", "S_VA",
               "PF", "f_Hz", "import_Wh", "export_Wh", "flags");
}

void MeterReport::reading(const core::PeriodReading& r, const std::optional<sim::Truth>& truth) {
  if (options_.json) {
    nlohmann::json j = {
        {"t_s", round_to(r.t_end_s, 4)},
        {"seq", r.sequence},
        {"vrms", round_to(r.vrms, 3)},
        {"irms", round_to(r.irms, 4)},
        {"neutral_irms", round_to(r.neutral_irms, 4)},
        {"p_w", round_to(r.p_w, 3)},
        {"s_va", round_to(r.s_va, 3)},
        {"q_var", round_to(r.q_var, 3)},
        {"pf", round_to(r.pf, 4)},
        {"freq_hz", round_to(r.freq_hz, 4)},
        {"e_import_wh", round_to(r.import_wh(), 6)},
        {"e_export_wh", round_to(r.export_wh(), 6)},
        {"cycles", r.cycles},
        {"flags", flag_names(r.flags)},
    };
    if (truth && options_.show_truth) {
      j["truth"] = {{"vrms", round_to(truth->vrms, 3)},
                    {"irms", round_to(truth->irms, 4)},
                    {"p_w", round_to(truth->p_w, 3)},
                    {"s_va", round_to(truth->s_va, 3)},
                    {"q_var", round_to(truth->q_var, 3)},
                    {"pf", round_to(truth->pf, 4)},
                    {"freq_hz", round_to(truth->freq_hz, 4)},
                    {"e_import_wh", round_to(truth->e_import_wh, 6)},
                    {"e_export_wh", round_to(truth->e_export_wh, 6)}};
    }
    std::fprintf(out_, "%s\n", j.dump().c_str());
    return;
  }
  header();
  std::fprintf(out_, "%8.1f %8.3f %8.4f %9.2f %9.2f %9.2f %7.4f %8.4f %12.6f %12.6f  %s\n", r.t_end_s, r.vrms, r.irms,
               r.p_w, r.q_var, r.s_va, r.pf, r.freq_hz, r.import_wh(), r.export_wh(), flag_names(r.flags).c_str());
  if (truth && options_.show_truth) {
    std::fprintf(out_, "%8s %8.3f %8.4f %9.2f %9.2f %9.2f %7.4f %8.4f %12.6f %12.6f  true\n", "", truth->vrms,
                 truth->irms, truth->p_w, truth->q_var, truth->s_va, truth->pf, truth->freq_hz, truth->e_import_wh,
                 truth->e_export_wh);
    std::fprintf(out_, "%8s %7.3f%% %7.3f%% %8.3f%% %8s %8.3f%% %7s %8s  (error)\n", "",
                 percent_error(r.vrms, truth->vrms), percent_error(r.irms, truth->irms),
                 percent_error(r.p_w, truth->p_w), "", percent_error(r.s_va, truth->s_va), "", "");
  }
}

void MeterReport::summary(const core::PeriodReading& first, const core::PeriodReading& last,
                          const std::optional<sim::Truth>& truth_first, const std::optional<sim::Truth>& truth_last) {
  if (options_.json) return;
  const double import_wh = last.import_wh() - first.import_wh();
  const double export_wh = last.export_wh() - first.export_wh();
  std::fprintf(out_, "\nenergy from t=%.1f s to t=%.1f s: import %.6f Wh, export %.6f Wh\n", first.t_end_s,
               last.t_end_s, import_wh, export_wh);
  if (truth_first && truth_last) {
    const double true_import = truth_last->e_import_wh - truth_first->e_import_wh;
    const double true_export = truth_last->e_export_wh - truth_first->e_export_wh;
    std::fprintf(out_, "true energy:                     import %.6f Wh, export %.6f Wh\n", true_import, true_export);
    std::fprintf(out_, "energy error: import %+.3f %%, export %+.3f %%\n", percent_error(import_wh, true_import),
                 percent_error(export_wh, true_export));
  }
}

}  // namespace wattguard::cli
