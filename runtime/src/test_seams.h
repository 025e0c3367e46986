// test_seams.h — moved to core/test_seams.h; this forwarder keeps
// tests/frontend/test_interp.cpp building until it includes the new path
// (remove it then).
#pragma once
#include "core/test_seams.h"
