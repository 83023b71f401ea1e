/**
 * \file version.h
 * \brief Stapler's version.
 */
#ifndef STAPLER_VERSION_H
#define STAPLER_VERSION_H

#define STAPLER_VERSION_MAJOR 0
#define STAPLER_VERSION_MINOR 1
#define STAPLER_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH" */
#define STAPLER_VERSION_STRING "0.1.0"

#endif /* STAPLER_VERSION_H */
