#include <stdio.h>
int uniap_cmd_archive(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "uniap: not implemented yet\n");
    return 1;
}
int uniap_cmd_model(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "uniap: not implemented yet\n");
    return 1;
}
int uniap_cmd_cluster(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "uniap: not implemented yet\n");
    return 1;
}
