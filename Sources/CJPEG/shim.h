#include <stdio.h>  /* jpeglib.h needs FILE */
#include <jpeglib.h>
