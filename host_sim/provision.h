/* stapler-sim provision (see provision.c). */
#ifndef STAPLER_SIM_PROVISION_H
#define STAPLER_SIM_PROVISION_H

int stapler_sim_command_provision(int argc, char **argv);

#endif
