namespace Mspgt.Checkpoints;

/// <summary>
/// llama.cpp and llama2.c store Llama q/k projection rows for adjacent-pair RoPE, (x[2i], x[2i+1]); Hugging Face
/// stores them for rotate-half RoPE, (x[i], x[i+hd/2]). Within each head, HF row j*(hd/2)+i is stored row 2i+j.
/// The engine reads such matrices through this row map and always uses rotate-half RoPE.
/// </summary>
public static class RopeLayout
{
    public static int[] AdjacentPairsToHalvesRowMap(int heads, int headDim)
    {
        int half = headDim / 2;
        var map = new int[heads * headDim];
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < half; i++)
                    map[h * headDim + j * half + i] = h * headDim + 2 * i + j;
        return map;
    }
}
