// One text line per period reading (and per derived calibration), the format both the target
// image and the host program print so that their outputs can be compared field by field.
#pragma once

#include "firmware/src/text_buffer.h"
#include "wattguard/core/meter_config.h"
#include "wattguard/core/period_reading.h"
#include "wattguard/core/status.h"

namespace wattguard::firmware {

// "reading seq=0 t_end_s=1.0000 vrms=230.118 ... flags=0x00000019": key=value fields; integers
// are printed exactly, floats rounded to a fixed number of decimals.
void format_reading(const core::PeriodReading& reading, TextBuffer* out);

// "bits seq=0 vrms=0x4366191a ...": the exact bit patterns of the float fields, to tell whether
// host and target agree to the last bit and not only to the printed decimals.
void format_reading_bits(const core::PeriodReading& reading, TextBuffer* out);

// "calibration status=ok v_per_count=... i_per_count=... phase_deg=..."
void format_calibration(core::Status status, const core::Calibration& cal, TextBuffer* out);

}  // namespace wattguard::firmware
