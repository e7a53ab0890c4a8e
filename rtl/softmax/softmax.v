// softmax: Edge-MoE single-pass (online) softmax over L signed Q8.8 scores, or the classic
// three-pass variant (THREE_PASS=1). See README.md for formats, cycle contract and error bound.
//   online:     IN (running max m and sum s in one pass) -> RCP1 -> RCP2 -> OUT (normalise)
//   three-pass: IN (max) -> SUM (re-read, sum) -> RCP1 -> RCP2 -> OUT (normalise)
// Output: L beats, p_i = exp(x_i - m) * (1/s) in unsigned Q1.16 (17 bit), out_last on the last.
`timescale 1ns/1ns
module softmax #(
    parameter int L = 16,           // scores per vector, 2..1024
    parameter int THREE_PASS = 0  // 1: classic three-pass variant
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        in_valid,
    output wire        in_ready,
    input  wire [15:0] in_data,     // signed Q8.8
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire        in_last,     // unused: L is a parameter
    /* verilator lint_on UNUSEDSIGNAL */
    output reg         out_valid,
    input  wire        out_ready,
    output reg  [16:0] out_data,    // unsigned Q1.16
    output reg         out_last,
    output reg  [31:0] stat_count   // score reads: input beats + score-buffer reads
);
  localparam int AW = $clog2(L);
  localparam int CW = AW + 1;
  localparam int SW = 17 + AW;      // sum: unsigned Q.16, <= L * 1.0
  localparam logic [2:0] S_IN = 3'd0, S_SUM = 3'd1, S_RCP1 = 3'd2, S_RCP2 = 3'd3, S_OUT = 3'd4;

  reg [2:0] state;
  reg [CW-1:0] cnt;
  reg signed [15:0] sbuf[L];
  reg signed [15:0] m;
  reg [SW-1:0] s;
  reg [24:0] r;                     // 1/s, unsigned Q1.24
  reg [15:0] mant;                  // normalised s, Q1.15
  reg [16:0] y0;                    // reciprocal seed, Q0.16
  reg [5:0] kexp;                   // msb position of s minus 16

  // 2^(j/64) in Q1.16
  function automatic [17:0] exp2_lut(input [5:0] j);
    case (j)
        6'd0: exp2_lut = 18'd65536;
        6'd1: exp2_lut = 18'd66250;
        6'd2: exp2_lut = 18'd66971;
        6'd3: exp2_lut = 18'd67700;
        6'd4: exp2_lut = 18'd68438;
        6'd5: exp2_lut = 18'd69183;
        6'd6: exp2_lut = 18'd69936;
        6'd7: exp2_lut = 18'd70698;
        6'd8: exp2_lut = 18'd71468;
        6'd9: exp2_lut = 18'd72246;
        6'd10: exp2_lut = 18'd73032;
        6'd11: exp2_lut = 18'd73828;
        6'd12: exp2_lut = 18'd74632;
        6'd13: exp2_lut = 18'd75444;
        6'd14: exp2_lut = 18'd76266;
        6'd15: exp2_lut = 18'd77096;
        6'd16: exp2_lut = 18'd77936;
        6'd17: exp2_lut = 18'd78785;
        6'd18: exp2_lut = 18'd79642;
        6'd19: exp2_lut = 18'd80510;
        6'd20: exp2_lut = 18'd81386;
        6'd21: exp2_lut = 18'd82273;
        6'd22: exp2_lut = 18'd83169;
        6'd23: exp2_lut = 18'd84074;
        6'd24: exp2_lut = 18'd84990;
        6'd25: exp2_lut = 18'd85915;
        6'd26: exp2_lut = 18'd86851;
        6'd27: exp2_lut = 18'd87796;
        6'd28: exp2_lut = 18'd88752;
        6'd29: exp2_lut = 18'd89719;
        6'd30: exp2_lut = 18'd90696;
        6'd31: exp2_lut = 18'd91684;
        6'd32: exp2_lut = 18'd92682;
        6'd33: exp2_lut = 18'd93691;
        6'd34: exp2_lut = 18'd94711;
        6'd35: exp2_lut = 18'd95743;
        6'd36: exp2_lut = 18'd96785;
        6'd37: exp2_lut = 18'd97839;
        6'd38: exp2_lut = 18'd98905;
        6'd39: exp2_lut = 18'd99982;
        6'd40: exp2_lut = 18'd101070;
        6'd41: exp2_lut = 18'd102171;
        6'd42: exp2_lut = 18'd103283;
        6'd43: exp2_lut = 18'd104408;
        6'd44: exp2_lut = 18'd105545;
        6'd45: exp2_lut = 18'd106694;
        6'd46: exp2_lut = 18'd107856;
        6'd47: exp2_lut = 18'd109031;
        6'd48: exp2_lut = 18'd110218;
        6'd49: exp2_lut = 18'd111418;
        6'd50: exp2_lut = 18'd112631;
        6'd51: exp2_lut = 18'd113858;
        6'd52: exp2_lut = 18'd115098;
        6'd53: exp2_lut = 18'd116351;
        6'd54: exp2_lut = 18'd117618;
        6'd55: exp2_lut = 18'd118899;
        6'd56: exp2_lut = 18'd120194;
        6'd57: exp2_lut = 18'd121502;
        6'd58: exp2_lut = 18'd122825;
        6'd59: exp2_lut = 18'd124163;
        6'd60: exp2_lut = 18'd125515;
        6'd61: exp2_lut = 18'd126882;
        6'd62: exp2_lut = 18'd128263;
        6'd63: exp2_lut = 18'd129660;
        default: exp2_lut = 18'd0;
    endcase
  endfunction
  // 1 / (1 + (j + 0.5)/64) in Q0.16
  function automatic [16:0] recip_lut(input [5:0] j);
    case (j)
        6'd0: recip_lut = 17'd65028;
        6'd1: recip_lut = 17'd64035;
        6'd2: recip_lut = 17'd63072;
        6'd3: recip_lut = 17'd62138;
        6'd4: recip_lut = 17'd61231;
        6'd5: recip_lut = 17'd60350;
        6'd6: recip_lut = 17'd59494;
        6'd7: recip_lut = 17'd58662;
        6'd8: recip_lut = 17'd57852;
        6'd9: recip_lut = 17'd57065;
        6'd10: recip_lut = 17'd56299;
        6'd11: recip_lut = 17'd55554;
        6'd12: recip_lut = 17'd54828;
        6'd13: recip_lut = 17'd54120;
        6'd14: recip_lut = 17'd53431;
        6'd15: recip_lut = 17'd52759;
        6'd16: recip_lut = 17'd52103;
        6'd17: recip_lut = 17'd51464;
        6'd18: recip_lut = 17'd50840;
        6'd19: recip_lut = 17'd50231;
        6'd20: recip_lut = 17'd49637;
        6'd21: recip_lut = 17'd49056;
        6'd22: recip_lut = 17'd48489;
        6'd23: recip_lut = 17'd47935;
        6'd24: recip_lut = 17'd47393;
        6'd25: recip_lut = 17'd46864;
        6'd26: recip_lut = 17'd46346;
        6'd27: recip_lut = 17'd45839;
        6'd28: recip_lut = 17'd45344;
        6'd29: recip_lut = 17'd44859;
        6'd30: recip_lut = 17'd44384;
        6'd31: recip_lut = 17'd43919;
        6'd32: recip_lut = 17'd43464;
        6'd33: recip_lut = 17'd43019;
        6'd34: recip_lut = 17'd42582;
        6'd35: recip_lut = 17'd42154;
        6'd36: recip_lut = 17'd41734;
        6'd37: recip_lut = 17'd41323;
        6'd38: recip_lut = 17'd40920;
        6'd39: recip_lut = 17'd40525;
        6'd40: recip_lut = 17'd40137;
        6'd41: recip_lut = 17'd39756;
        6'd42: recip_lut = 17'd39383;
        6'd43: recip_lut = 17'd39017;
        6'd44: recip_lut = 17'd38657;
        6'd45: recip_lut = 17'd38304;
        6'd46: recip_lut = 17'd37958;
        6'd47: recip_lut = 17'd37617;
        6'd48: recip_lut = 17'd37283;
        6'd49: recip_lut = 17'd36954;
        6'd50: recip_lut = 17'd36631;
        6'd51: recip_lut = 17'd36314;
        6'd52: recip_lut = 17'd36003;
        6'd53: recip_lut = 17'd35696;
        6'd54: recip_lut = 17'd35395;
        6'd55: recip_lut = 17'd35099;
        6'd56: recip_lut = 17'd34808;
        6'd57: recip_lut = 17'd34521;
        6'd58: recip_lut = 17'd34239;
        6'd59: recip_lut = 17'd33962;
        6'd60: recip_lut = 17'd33689;
        6'd61: recip_lut = 17'd33421;
        6'd62: recip_lut = 17'd33157;
        6'd63: recip_lut = 17'd32897;
        default: recip_lut = 17'd0;
    endcase
  endfunction

  // exp(d), d <= 0 in Q.8 -> Q1.16
  function automatic [16:0] exp_q(input signed [16:0] d);
    logic signed [35:0] p;
    logic signed [23:0] t;
    logic [11:0] fpart;
    logic [17:0] e0, e1, e;
    logic [11:0] sh;
    p = 36'(d) * 36'sd94548;                 // Q.24
    t = 24'((p + 36'sd2048) >>> 12);         // Q.12, rounded
    fpart = t[11:0];
    e0 = exp2_lut(fpart[11:6]);
    e1 = (fpart[11:6] == 6'd63) ? 18'd131072 : exp2_lut(fpart[11:6] + 6'd1);
    e = e0 + 18'(((e1 - e0) * 18'(fpart[5:0])) >> 6);
    sh = -t[23:12];
    exp_q = (sh > 12'd17) ? 17'd0 : 17'(e >> sh);
  endfunction

  wire in_fire = in_valid && in_ready;
  assign in_ready = (state == S_IN);

  // One shared exp unit: IN compares the new score with the running max; SUM and OUT
  // re-read the score buffer.
  wire signed [15:0] rd = sbuf[cnt[AW-1:0]];
  wire signed [15:0] x  = (state == S_IN) ? in_data : rd;
  wire first = (cnt == 0);
  wire x_gt = (x > m);
  wire signed [16:0] d = (state == S_IN && x_gt) ? 17'(m) - 17'(x) : 17'(x) - 17'(m);
  wire [16:0] ex = exp_q(d);
  wire [SW+16:0] sprod = (SW+17)'(s) * (SW+17)'(ex);

  // reciprocal datapath
  reg [5:0] msb;
  always @* begin
    msb = 0;
    for (int i = 16; i < SW; i++) if (s[i]) msb = 6'(i - 16);
  end
  wire [15:0] s_norm = 16'(s >> (msb + 6'd1));          // Q1.15: s >> (msb + 16 - 15)
  wire [32:0] prod = 33'(mant) * 33'(y0);               // Q1.31
  wire [32:0] two_minus = 33'h1_0000_0000 - prod;
  wire [49:0] y1 = (50'(y0) * 50'(two_minus)) >> 23;    // Q.24
  wire [40:0] pmul = 41'(ex) * 41'(r);                  // Q.40

  always @(posedge clk) begin
    if (rst) begin
      state <= S_IN; cnt <= 0; m <= 0; s <= 0; r <= 0; mant <= 0; y0 <= 0; kexp <= 0;
      out_valid <= 1'b0; out_data <= 0; out_last <= 1'b0; stat_count <= 0;
    end else begin
      case (state)
        S_IN: if (in_fire) begin
          stat_count <= stat_count + 1;
          sbuf[cnt[AW-1:0]] <= in_data;
          if (first || x_gt) m <= in_data;
          if (THREE_PASS == 0) begin
            if (first) s <= SW'(65536);
            else if (x_gt) s <= SW'(sprod >> 16) + SW'(65536);
            else s <= s + SW'(ex);
          end else begin
            s <= 0;
          end
          if (cnt == CW'(L - 1)) begin
            cnt <= 0;
            state <= (THREE_PASS != 0) ? S_SUM : S_RCP1;
          end else cnt <= cnt + 1'b1;
        end
        S_SUM: begin
          stat_count <= stat_count + 1;
          s <= s + SW'(ex);
          if (cnt == CW'(L - 1)) begin cnt <= 0; state <= S_RCP1; end
          else cnt <= cnt + 1'b1;
        end
        S_RCP1: begin
          mant <= s_norm;
          y0 <= recip_lut(s_norm[14:9]);
          kexp <= msb;
          state <= S_RCP2;
        end
        S_RCP2: begin
          r <= 25'(y1 >> kexp);
          state <= S_OUT;
        end
        S_OUT: if (!out_valid || out_ready) begin
          if (cnt != CW'(L)) begin
            stat_count <= stat_count + 1;
            out_valid <= 1'b1;
            out_data <= 17'(pmul >> 24);
            out_last <= (cnt == CW'(L - 1));
            cnt <= cnt + 1'b1;
          end else begin
            out_valid <= 1'b0; out_last <= 1'b0; cnt <= 0; state <= S_IN;
          end
        end
        default: state <= S_IN;
      endcase
    end
  end
endmodule
