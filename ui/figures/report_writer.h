#pragma once
// Writes a ReportData (core/jobs/report_job.h) as DIR/index.html (one self-contained file: CSS
// and figures inline, no scripts, fonts or links to fetch), DIR/report.pdf (A4, a header and page
// numbers on every page, figures as vector drawings, fonts embedded) and DIR/report.json (the same
// numbers). Same renderer as `synthlens figure`.

#include <string>

#include "core/jobs/report_job.h"

namespace synthlens::figures {

// Returns an empty string on success, else "PATH: problem". Files are written atomically; on a
// failure the files this call created are removed.
std::string WriteReport(const ReportData& report, const std::string& dir);

}  // namespace synthlens::figures
