/* stapler-sim serve / connect: stapled TLS handshakes over the simulator's lwIP stack. */
#ifndef STAPLER_SIM_TLS_COMMANDS_H
#define STAPLER_SIM_TLS_COMMANDS_H

int stapler_sim_command_serve(int argc, char **argv);
int stapler_sim_command_connect(int argc, char **argv);

#endif /* STAPLER_SIM_TLS_COMMANDS_H */
