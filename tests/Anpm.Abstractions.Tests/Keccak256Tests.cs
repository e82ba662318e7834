using System.Text;
using Anpm.Abstractions;

namespace Anpm.Abstractions.Tests;

public sealed class Keccak256Tests
{
    [Theory]
    [InlineData("", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")]
    [InlineData("abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")]
    [InlineData("The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")]
    public void Hash_OfficialVectors_Match(string text, string expected) =>
        Assert.Equal(expected, Convert.ToHexStringLower(Keccak256.Hash(Encoding.ASCII.GetBytes(text))));

    [Fact]
    public void Hash_KeccakTeamShortMessageKat_Matches() =>
        // ShortMsgKAT_256.txt, Len = 8, Msg = CC.
        Assert.Equal("eead6dbfc7340a56caedc044696a168870549a6a7f6f56961e84a54bd9970b8a", Convert.ToHexStringLower(Keccak256.Hash([0xcc])));

    // Digests computed by @noble/hashes keccak_256 and ethers keccak256 (identical) for byte i = (7i + 3) mod 256,
    // at lengths around the 136-byte rate where padding splits across blocks.
    [Theory]
    [InlineData(1, "69c322e3248a5dfc29d73c5b0553b0185a35cd5bb6386747517ef7e53b15e287")]
    [InlineData(31, "8522dc30be01c01348c0591309ac2948c9ae4ce02facbb745f85a5297286d3dd")]
    [InlineData(32, "04d1b47ed3b04c5ff6a0280293cb2ab55bd297c9c2e0c3449831b419285d7df2")]
    [InlineData(33, "6aa134a68136f6d487895406a25cc734a9b20cb805cd09b7c1dcb29bcd490fe6")]
    [InlineData(135, "00ef96af9cf4b24c7f269d922294444a197d0a33638c2e56634c57e892103a8f")]
    [InlineData(136, "742061bcad767ed4c4f5883b1dcb1aad11afdcc140dc469d953759b127b9f9ed")]
    [InlineData(137, "e3371f61e770abf254c34239c3b0099ad90594507415bc81dd0a10b9692bbf2a")]
    [InlineData(271, "4401c4afbe16ff911bdbf2d38e556e5b861f3fdf0f9d4306b1c46f6ae4f73584")]
    [InlineData(272, "ac141fd7b0a0ffcd2e967254d508da3ec616596493c36fa304425647d90e6de5")]
    [InlineData(273, "16192ea86793083e47731cb3c970600f04768414d92bc0540e54ce8607a0fce0")]
    [InlineData(1000, "80cdc8dd52cbb3dbaea8f383209893fa2bb52efbd5aedbb4b26dcfe307fcdc9b")]
    public void Hash_AroundRateBoundaries_MatchesOutsideImplementations(int length, string expected)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 7) + 3);
        }

        Assert.Equal(expected, Convert.ToHexStringLower(Keccak256.Hash(data)));
    }

    [Fact]
    public void Hash_ShortDestination_Throws() =>
        Assert.Throws<ArgumentException>(() => Keccak256.Hash([1], new byte[31]));
}
