// Builds an oracle from a spec string and wraps it in the standard decorators
// (scrim/oracle/oracle_stack.h). Here, above the oracle layer, because one
// backend is the in-process reference MLLM.
//
// Specs:  reference:MODEL_FILE              the in-process reference MLLM
//         openai:BASE_URL#MODEL             any OpenAI-compatible endpoint; the key comes
//                                           from SCRIM_API_KEY, else OPENAI_API_KEY
#pragma once

#include <string>

#include "scrim/oracle/oracle_stack.h"

namespace scrim {

// Throws scrim::UsageError for a malformed spec, scrim::Error when the backend cannot be created.
OracleStack make_oracle(const std::string& spec, const OracleStackOptions& options = {});

}  // namespace scrim
