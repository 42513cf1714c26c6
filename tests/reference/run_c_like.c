// Same-machine peer for `llamaforge bench generate --preset 15M`: the decoding loop of
// llama2.c's run.c, rewritten here from its published structure (no code copied): separate
// q/k/v/w1/w3/w2/wo matmuls, each an `omp parallel for` over output rows; attention heads
// in parallel; interleaved RoPE; tied classifier; greedy. Random weights in the 15M shape
// (dim 288, 6 layers, 6 heads, hidden 768, vocab 32000), 256 tokens from BOS, 3 runs.
//
//   gcc -Ofast -march=native -fopenmp tests/reference/run_c_like.c -o /tmp/run_c_like -lm
//   OMP_NUM_THREADS=2 /tmp/run_c_like
//   # the same with the weights on transparent huge pages (madvise), as llamaforge does:
//   gcc -Ofast -march=native -fopenmp -DHUGEPAGES tests/reference/run_c_like.c -o /tmp/run_c_like_huge -lm

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>
#include <string.h>
#ifdef HUGEPAGES
#include <sys/mman.h>
#endif
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#ifdef HUGEPAGES
#define HUGE_LABEL " (huge pages)"
#else
#define HUGE_LABEL ""
#endif
enum {DIM=288, HID=768, L=6, NH=6, NKV=6, V=32000, S=256, HD=48};
static float *rnd(size_t n){
#ifdef HUGEPAGES
  size_t b=(n*4+(2<<20)-1)/(2<<20)*(2<<20);float*p=aligned_alloc(2<<20,b);madvise(p,b,MADV_HUGEPAGE);
#else
  float*p=malloc(n*4);
#endif
  for(size_t i=0;i<n;i++)p[i]=((rand()%2001)-1000)*1e-4f;return p;}
static void matmul(float*xout,const float*x,const float*w,int n,int d){
  int i;
  #pragma omp parallel for private(i)
  for(i=0;i<d;i++){float v=0;for(int j=0;j<n;j++)v+=w[(size_t)i*n+j]*x[j];xout[i]=v;}
}
static void rmsnorm(float*o,const float*x,const float*w,int n){float ss=0;for(int j=0;j<n;j++)ss+=x[j]*x[j];ss=1.0f/sqrtf(ss/n+1e-5f);for(int j=0;j<n;j++)o[j]=w[j]*(ss*x[j]);}
static void softmax(float*x,int n){float m=x[0];for(int i=1;i<n;i++)if(x[i]>m)m=x[i];float s=0;for(int i=0;i<n;i++){x[i]=expf(x[i]-m);s+=x[i];}for(int i=0;i<n;i++)x[i]/=s;}
int main(){
  float *emb=rnd((size_t)V*DIM),*rms_att=rnd(L*DIM),*rms_ffn=rnd(L*DIM),*wq=rnd((size_t)L*DIM*DIM),*wk=rnd((size_t)L*DIM*DIM),*wv=rnd((size_t)L*DIM*DIM),*wo=rnd((size_t)L*DIM*DIM),
        *w1=rnd((size_t)L*HID*DIM),*w2=rnd((size_t)L*DIM*HID),*w3=rnd((size_t)L*HID*DIM),*rms_f=rnd(DIM);
  float x[DIM],xb[DIM],xb2[DIM],hb[HID],hb2[HID],q[DIM],*att=malloc(NH*S*4),*logits=malloc(V*4);
  float *kc=calloc((size_t)L*S*DIM,4),*vc=calloc((size_t)L*S*DIM,4);
  for(int rep=0;rep<3;rep++){
  int token=1; double t0=now();
  for(int pos=0;pos<S;pos++){
    memcpy(x,emb+(size_t)token*DIM,DIM*4);
    for(int l=0;l<L;l++){
      rmsnorm(xb,x,rms_att+l*DIM,DIM);
      float*k=kc+((size_t)l*S+pos)*DIM,*v=vc+((size_t)l*S+pos)*DIM;
      matmul(q,xb,wq+(size_t)l*DIM*DIM,DIM,DIM);matmul(k,xb,wk+(size_t)l*DIM*DIM,DIM,DIM);matmul(v,xb,wv+(size_t)l*DIM*DIM,DIM,DIM);
      for(int i=0;i<DIM;i+=2){int hd=i%HD;float f=1.0f/powf(10000.0f,hd/(float)HD);float val=pos*f,fc=cosf(val),fs=sinf(val);
        for(int vv=0;vv<2;vv++){float*vec=vv==0?q:k;float a=vec[i],b=vec[i+1];vec[i]=a*fc-b*fs;vec[i+1]=a*fs+b*fc;}}
      int h;
      #pragma omp parallel for private(h)
      for(h=0;h<NH;h++){float*qh=q+h*HD,*a=att+h*S;
        for(int t=0;t<=pos;t++){float*kk=kc+((size_t)l*S+t)*DIM+h*HD;float sc=0;for(int i=0;i<HD;i++)sc+=qh[i]*kk[i];a[t]=sc/sqrtf(HD);}
        softmax(a,pos+1);float*o=xb+h*HD;memset(o,0,HD*4);
        for(int t=0;t<=pos;t++){float*vv=vc+((size_t)l*S+t)*DIM+h*HD;for(int i=0;i<HD;i++)o[i]+=a[t]*vv[i];}}
      matmul(xb2,xb,wo+(size_t)l*DIM*DIM,DIM,DIM);for(int i=0;i<DIM;i++)x[i]+=xb2[i];
      rmsnorm(xb,x,rms_ffn+l*DIM,DIM);
      matmul(hb,xb,w1+(size_t)l*DIM*HID,DIM,HID);matmul(hb2,xb,w3+(size_t)l*DIM*HID,DIM,HID);
      for(int i=0;i<HID;i++){float s=hb[i];s*=1.0f/(1.0f+expf(-s));hb[i]=s*hb2[i];}
      matmul(xb,hb,w2+(size_t)l*DIM*HID,HID,DIM);for(int i=0;i<DIM;i++)x[i]+=xb[i];
    }
    rmsnorm(x,x,rms_f,DIM);matmul(logits,x,emb,DIM,V);
    int best=0;for(int i=1;i<V;i++)if(logits[i]>logits[best])best=i;token=best;
  }
  printf("run.c-like%s: %.0f tok/s\n",HUGE_LABEL,S/(now()-t0));
  }
}
