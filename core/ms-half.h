/* ms-half.h — IEEE 754 half precision ↔ single precision.  Used to read F16
 * model tensors and to store attention compactly in recordings. */
#pragma once

#include <stdint.h>

float ms_half_to_float (uint16_t h);
/* Round to nearest even; overflow gives ±inf, NaN stays NaN. */
uint16_t ms_float_to_half (float f);
